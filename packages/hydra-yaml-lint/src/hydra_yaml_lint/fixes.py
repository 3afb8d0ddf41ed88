"""Build text edits for fixes and apply them. Edits touch only the spans they name; every other
character of the file (comments, quoting, flow style) stays as it was."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from hydra_yaml_lint.component import Arg, Component
from hydra_yaml_lint.diagnostic import Edit
from hydra_yaml_lint.yamlsource import ScalarNode, SequenceNode, SourceText, render_scalar


def editable(arg: Arg) -> bool:
    """False for arguments synthesized from a v2 ``{"Concat": ...}``/``{"IfPresent": ...}`` JSON string:
    compiled pipeline YAML is regenerated, not edited."""
    return not (arg.composite and isinstance(arg.node, ScalarNode))


def replace_arg(component: Component, arg: Arg, value: str) -> Edit:
    """Replace the whole argument node with a string scalar, keeping its quoting style when it can."""
    start, end = component.source.span(arg.node)
    style = arg.style if isinstance(arg.node, ScalarNode) and arg.style in ("'", '"') else None
    return Edit(start, end, render_scalar(value, style, arg.flow))


def trailing_comment(source: SourceText, end: int) -> str | None:
    """The ``# comment`` after offset ``end`` on its line, if the rest of the line is only that."""
    rest = source.text[end : source.line_end(end)].rstrip("\r\n\x85\u2028\u2029")
    stripped = rest.lstrip()
    return stripped if stripped.startswith("#") and rest[: len(rest) - len(stripped)] else None


def delete_item(source: SourceText, seq: SequenceNode, index: int) -> Edit | None:
    """Remove item ``index`` of a sequence, with its ``- `` line (block) or its separating comma (flow).
    A block item's trailing comment goes with it: see :func:`trailing_comment` to keep it elsewhere."""
    items = seq.value
    start, end = source.span(items[index])
    text = source.text
    if seq.flow_style:
        if index > 0:
            return Edit(source.span(items[index - 1])[1], end, "")
        if len(items) > 1:
            return Edit(start, source.span(items[1])[0], "")
        return Edit(start, end, "")
    dash = text.rfind("-", source.line_start(start), start)
    line_start = source.line_start(start)
    if dash < 0 or text[line_start:dash].strip() or text[dash + 1 : start].strip():
        return None  # the item does not start its own `- ` line; leave it to a human
    rest_of_line = text[end : source.line_end(end)] if end > start else ""
    if rest_of_line.strip() and not rest_of_line.lstrip().startswith("#"):
        return None
    if end > 0 and text[end - 1] in "\r\n\x85\u2028\u2029":
        return Edit(line_start, end, "")  # block scalars end after their line break
    return Edit(line_start, source.line_end(end), "")


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping edits (sorted here) to ``text``."""
    pieces: list[str] = []
    position = 0
    for edit in sorted(edits):
        pieces.extend((text[position : edit.start], edit.content))
        position = edit.end
    pieces.append(text[position:])
    return "".join(pieces)


def self_overlapping(edits: Iterable[Edit]) -> bool:
    """True when a fix's own edits intersect (it cannot be applied)."""
    ordered = sorted(edits)
    return any(first.end > second.start for first, second in itertools.pairwise(ordered))


def overlaps(edits: Iterable[Edit], taken: list[tuple[int, int]]) -> bool:
    """True when any edit intersects a span in ``taken``."""
    return any(
        (edit.start < hi and lo < edit.end) or (edit.start == edit.end and lo <= edit.start <= hi)
        for edit in edits
        for lo, hi in taken
    )
