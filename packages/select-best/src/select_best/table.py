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

from select_best.selection import Selection
from select_best.trials import Trial, accuracy

#: metrics.json keys shown as their own columns when a trial has them, with their headings
ACCURACY_COLUMNS = {"val_accuracy": "val accuracy", "test_accuracy": "test accuracy"}
FIXED_COLUMNS = ("train time (s)", "state", "best")


def format_value(value: Any) -> str:
    """A config value as a person reads it: ``0.002``, ``true``, ``null``, ``[24, 48]``."""
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str)


def metric_columns(selection: Selection) -> dict[str, str]:
    """The metrics.json keys shown, with their headings: the selection metric, then each accuracy that a
    succeeded trial has."""
    metric = selection.criterion.metric
    columns = {} if metric in ACCURACY_COLUMNS else {metric: metric.replace("_", " ")}
    for key, heading in ACCURACY_COLUMNS.items():
        if key == metric or any(
            accuracy(t.metrics.get(key)) is not None for t in selection.trials if t.succeeded
        ):
            columns[key] = heading
    return columns


def numeric_columns(selection: Selection) -> set[str]:
    """The headings of the columns that hold numbers (right-aligned)."""
    return {"trial", *metric_columns(selection).values(), "train time (s)"}


def header(selection: Selection) -> list[str]:
    return ["trial", *selection.parameters, *metric_columns(selection).values(), *FIXED_COLUMNS]


def _metric_cell(selection: Selection, trial: Trial, key: str) -> str:
    value = accuracy(trial.metrics.get(key)) if key in ACCURACY_COLUMNS else trial.metric(key)
    if value is None or not trial.succeeded:
        return "-"
    return f"{value:.4f}" if key in ACCURACY_COLUMNS else selection.criterion.format(value)


def row(selection: Selection, trial: Trial) -> list[str]:
    known = selection.parameter_values(trial)
    params = [format_value(known[k]) if k in known else "-" for k in selection.parameters]
    seconds = trial.train_time_s
    return [
        str(trial.number),
        *params,
        *(_metric_cell(selection, trial, key) for key in metric_columns(selection)),
        "-" if seconds is None or not trial.succeeded else f"{seconds:.1f}",
        "succeeded" if trial.succeeded else "failed",
        "best" if trial is selection.best else "",
    ]


def notes(selection: Selection) -> list[str]:
    """One line per failed trial and per trial whose parameters are unknown."""
    lines = [f"trial {t.number} failed: {t.error}" for t in selection.failed]
    if selection.trial_parameters is None:  # else the pipeline named every trial's parameters
        lines += [
            f"trial {t.number}: parameters unknown ({t.config_error})"
            for t in selection.trials
            if t.succeeded and t.config_error
        ]
    return lines


def summary(selection: Selection) -> str:
    best, criterion = selection.best, selection.criterion
    score = best.metric(criterion.metric)
    shown = "-" if score is None else criterion.format(score)
    return (
        f"Best: trial {best.number} of {len(selection.trials)} ({criterion.metric} {shown}); "
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
    numeric = numeric_columns(selection)
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
            [
                summary(selection),
                "",
                f"Selection: {selection.rule}.",
                "",
                *lines,
                *(["", *extra] if extra else []),
            ]
        )
        + "\n"
    )
