"""``report.html``: the comparison table, every trial's validation curve, the best model's confusion matrix.

Self-contained (inline CSS and SVG, nothing fetched), so it opens from a Vertex AI artifact, a run directory
or an e-mail attachment alike. Every piece of text goes through :func:`html.escape`.
"""

from __future__ import annotations

import math
from html import escape

from select_best.selection import Selection
from select_best.table import header, notes, numeric_columns, row, summary
from select_best.trials import Trial

# Tableau 10: distinguishable lines for up to ten trials, then repeated
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip

_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2430;
       margin: 24px auto; max-width: 1100px; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
p.rule { color: #4a5568; margin: 4px 0 12px; }
table.trials { border-collapse: collapse; }
table.trials th, table.trials td { border: 1px solid #d5dae1; padding: 4px 10px; text-align: left; }
table.trials th { background: #eef1f5; }
table.trials td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.trials tr.best td { background: #fff4c2; font-weight: 600; }
table.trials tr.failed td { color: #9aa3ad; }
ul.notes { color: #a33; }
svg text { font: 12px system-ui, sans-serif; fill: #333; }
table.confusion { border-collapse: collapse; font-variant-numeric: tabular-nums; }
table.confusion td { width: 52px; height: 30px; text-align: center; border: 1px solid #fff; }
table.confusion th { font-weight: normal; padding: 2px 6px; white-space: nowrap; }
table.confusion th.true { text-align: right; }
table.confusion thead th { writing-mode: vertical-rl; transform: rotate(180deg); vertical-align: bottom; }
"""


def _table(selection: Selection) -> str:
    head = header(selection)
    numeric = numeric_columns(selection)
    out = ['<table class="trials"><thead><tr>']
    out += [f"<th>{escape(h)}</th>" for h in head]
    out.append("</tr></thead><tbody>")
    for trial in selection.trials:
        css = "best" if trial is selection.best else ("failed" if not trial.succeeded else "")
        out.append(f'<tr class="{css}">' if css else "<tr>")
        for name, cell in zip(head, row(selection, trial), strict=True):
            out.append(
                f'<td class="num">{escape(cell)}</td>' if name in numeric else f"<td>{escape(cell)}</td>"
            )
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _axis(lo: float, hi: float) -> list[float]:
    """Round ticks (0.5, 1, 2, 5, 10 or 20 points apart, at most six) covering ``lo``..``hi`` within 0..1."""
    step = next((s for s in (0.005, 0.01, 0.02, 0.05, 0.1) if (hi - lo) / s <= 5), 0.2)
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    if first == last:
        first, last = first - (first > 0), last + (last * step < 1)
    return [round(i * step, 6) for i in range(first, last + 1)]


def _curves(selection: Selection) -> str:
    """One polyline per trial with a validation curve: x = epoch, y = validation accuracy."""
    trials = [t for t in selection.trials if t.succeeded and t.val_curve]
    if not trials:
        return "<p>No trial recorded a validation accuracy per epoch.</p>"
    width, height = 760, 360
    left, right, top, bottom = 74, 170, 16, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    epochs = max(len(t.val_curve) for t in trials)
    values = [v for t in trials for v in t.val_curve]
    ticks = _axis(min(values), max(values))
    lo, hi = ticks[0], ticks[-1]

    def x(epoch: int) -> float:
        return left + (plot_w / 2 if epochs == 1 else plot_w * (epoch - 1) / (epochs - 1))

    def y(value: float) -> float:
        return top + plot_h * (hi - value) / (hi - lo)

    out = [
        f'<svg class="curves" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="validation accuracy per epoch">',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fafbfc" stroke="#c8ced6"/>',
    ]
    for tick in ticks:
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#e3e7ec"/>'
        )
        out.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick * 100:.1f} %</text>')
    step = max(1, round(epochs / 10))
    for epoch in range(1, epochs + 1, step):
        out.append(f'<text x="{x(epoch):.1f}" y="{top + plot_h + 18}" text-anchor="middle">{epoch}</text>')
    out.append(f'<text x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle">epoch</text>')
    out.append(
        f'<text transform="translate(14 {top + plot_h / 2}) rotate(-90)" text-anchor="middle">'
        "validation accuracy</text>"
    )
    for i, trial in enumerate(trials):
        colour = PALETTE[(trial.number - 1) % len(PALETTE)]
        best = trial is selection.best
        points = " ".join(f"{x(e):.1f},{y(v):.1f}" for e, v in enumerate(trial.val_curve, start=1))
        label = escape(f"trial {trial.number}" + (" (best)" if best else ""))
        out.append(
            f'<polyline class="curve" data-trial="{trial.number}" points="{points}" fill="none" '
            f'stroke="{colour}" stroke-width="{3.5 if best else 2}"><title>{label}</title></polyline>'
        )
        out += [
            f'<circle cx="{x(e):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"><title>{label}, epoch {e}: '
            f"{v:.4f}</title></circle>"
            for e, v in enumerate(trial.val_curve, start=1)
        ]
        ly = top + 10 + 20 * i
        lx = left + plot_w + 14
        out.append(f'<line x1="{lx}" x2="{lx + 22}" y1="{ly}" y2="{ly}" stroke="{colour}" stroke-width="3"/>')
        weight = ' font-weight="bold"' if best else ""
        out.append(f'<text x="{lx + 28}" y="{ly + 4}"{weight}>{label}</text>')
    out.append("</svg>")
    return "".join(out)


#: a confusion matrix is drawn up to this many classes (its cells grow with the square)
MAX_DRAWN_CLASSES = 256


def _heat(fraction: float) -> tuple[str, str]:
    """Background and text colour for a cell holding ``fraction`` of its row (white → deep blue)."""
    low, high = (247, 251, 255), (8, 69, 148)
    rgb = tuple(round(a + (b - a) * fraction) for a, b in zip(low, high, strict=True))
    return f"rgb({rgb[0]},{rgb[1]},{rgb[2]})", ("#fff" if fraction > 0.5 else "#1d2430")


def _confusion(trial: Trial) -> str:
    matrix = trial.metrics.get("confusion_matrix")
    names = trial.metrics.get("class_names")
    if not (
        isinstance(matrix, list)
        and matrix
        and all(isinstance(r, list) and len(r) == len(matrix) for r in matrix)
    ):
        return "<p>The best trial's metrics.json has no confusion matrix.</p>"
    if len(matrix) > MAX_DRAWN_CLASSES:
        return (
            f"<p>The confusion matrix has {len(matrix)} classes, more than the report draws "
            f"({MAX_DRAWN_CLASSES}); it is in the best model's metrics.json.</p>"
        )
    if not (isinstance(names, list) and len(names) == len(matrix)):
        names = [str(i) for i in range(len(matrix))]
    out = ['<table class="confusion"><thead><tr><th></th>']
    out += [f"<th>{escape(str(n))}</th>" for n in names]
    out.append("</tr></thead><tbody>")
    for name, counts in zip(names, matrix, strict=True):
        total = sum(c for c in counts if isinstance(c, (int, float))) or 1
        out.append(f'<tr><th class="true">{escape(str(name))}</th>')
        for predicted, count in zip(names, counts, strict=True):
            value = count if isinstance(count, (int, float)) else 0
            background, colour = _heat(value / total)
            tip = f"true {name}, predicted {predicted}: {value} ({value / total:.1%} of the row)"
            out.append(
                f'<td style="background:{background};color:{colour}" title="{escape(tip)}">{escape(str(count))}</td>'
            )
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def render(selection: Selection) -> str:
    """The whole report as one HTML document."""
    best = selection.best
    note_items = "".join(f"<li>{escape(n)}</li>" for n in notes(selection))
    return "".join(
        [
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(f'Sweep: best trial {best.number} of {len(selection.trials)}')}</title>",
            f"<style>{_CSS}</style></head><body>",
            f"<h1>Sweep of {len(selection.trials)} trials</h1>",
            f'<p class="summary">{escape(summary(selection))}</p>',
            f'<p class="rule">Selection: {escape(selection.rule)}.</p>',
            "<h2>Trials</h2>",
            _table(selection),
            f'<ul class="notes">{note_items}</ul>' if note_items else "",
            "<h2>Validation accuracy per epoch</h2>",
            _curves(selection),
            f"<h2>Confusion matrix of the best model (trial {best.number})</h2>",
            '<p class="rule">On the test set; rows: true class, columns: predicted class, shade: share of the row.</p>',
            _confusion(best),
            "</body></html>\n",
        ]
    )
