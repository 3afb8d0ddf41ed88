"""The comparison table: one row per trial, as plain cells, rendered as Markdown (the ``table`` output).

Cells hold parameter values and error text, which are data: Vertex AI renders the Markdown artifact, so
every cell is escaped (:func:`_md_cell`): HTML's ``<``, ``>``, ``&`` as entities, the Markdown punctuation
that starts emphasis, code, links or cells with a backslash, and control characters (a terminal escape
sequence) shown as ``\\xNN``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from select_best.selection import RULE, Selection
from select_best.trials import Trial

FIXED_COLUMNS = ("val accuracy", "test accuracy", "train time (s)", "state", "best")


def format_value(value: Any) -> str:
    """A config value as a person reads it: ``0.002``, ``true``, ``null``, ``[24, 48]``."""
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str)


def _accuracy(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def header(selection: Selection) -> list[str]:
    return ["trial", *selection.parameters, *FIXED_COLUMNS]


def row(selection: Selection, trial: Trial) -> list[str]:
    params = [format_value(trial.config[k]) if k in trial.config else "-" for k in selection.parameters]
    seconds = trial.train_time_s
    return [
        str(trial.number),
        *params,
        _accuracy(trial.val_accuracy if trial.succeeded else None),
        _accuracy(trial.test_accuracy if trial.succeeded else None),
        "-" if seconds is None or not trial.succeeded else f"{seconds:.1f}",
        "succeeded" if trial.succeeded else "failed",
        "best" if trial is selection.best else "",
    ]


def notes(selection: Selection) -> list[str]:
    """One line per failed trial and per trial whose parameters are unknown."""
    lines = [f"trial {t.number} failed: {t.error}" for t in selection.failed]
    lines += [
        f"trial {t.number}: parameters unknown ({t.config_error})"
        for t in selection.trials
        if t.succeeded and t.config_error
    ]
    return lines


def summary(selection: Selection) -> str:
    best = selection.best
    return (
        f"Best: trial {best.number} of {len(selection.trials)} (val_accuracy {best.val_accuracy:.4f}); "
        f"{len(selection.failed)} failed."
    )


_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# what starts emphasis, code, a link or image, a strike-through or a new cell; `_` inside a word never does
_MARKDOWN = re.compile(r"[\\`*\[\]|~]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")


def visible(text: str) -> str:
    """``text`` with control characters (other than line breaks and tabs) written as ``\\xNN``/``\\uNNNN``."""
    return "".join(
        ch if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf") else ascii(ch)[1:-1] for ch in text
    )


def _md_cell(text: str) -> str:
    """One table cell: whitespace runs as one space, nothing Markdown or HTML would interpret."""
    text = _MARKDOWN.sub(lambda match: "\\" + match[0], visible(text))
    return " ".join("".join(_HTML.get(ch, ch) for ch in text).split()) or " "


def markdown(selection: Selection) -> str:
    """The ``table`` artifact: summary, the rule, the table, and the failures."""
    head = header(selection)
    numeric = {"trial", "val accuracy", "test accuracy", "train time (s)"}
    lines = [
        "| " + " | ".join(_md_cell(h) for h in head) + " |",
        "|" + "|".join("---:" if h in numeric else "---" for h in head) + "|",
    ]
    for trial in selection.trials:
        cells = [_md_cell(c) for c in row(selection, trial)]
        if trial is selection.best:
            cells = [f"**{c}**" if c.strip() else c for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    extra = [f"- {_md_cell(n)}" for n in notes(selection)]
    return (
        "\n".join(
            [summary(selection), "", f"Selection: {RULE}.", "", *lines, *(["", *extra] if extra else [])]
        )
        + "\n"
    )
