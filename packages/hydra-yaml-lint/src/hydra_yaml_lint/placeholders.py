"""KFP v2 placeholders (``{{$.inputs.parameters['x']}}``) found in an argument string.

The constant placeholders are the ones kfp defines in ``kfp.dsl`` and resolves in
``kfp.local.placeholder_utils``; a test keeps this table in step with the installed kfp.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# `{{$.<name>}}` placeholders that take no input name.
CONSTANT_PLACEHOLDERS: frozenset[str] = frozenset(
    {
        "outputs.output_file",
        "outputMetadataUri",
        "pipeline_job_name",
        "pipeline_job_resource_name",
        "pipeline_job_uuid",
        "pipeline_task_name",
        "pipeline_task_uuid",
        "pipeline_root",
        "pipeline_job_create_time_utc",
        "pipeline_job_schedule_time_utc",
        "workspace_path",
    }
)

_IO = re.compile(
    r"(?P<direction>inputs|outputs)\.(?P<section>parameters|artifacts)"
    r"\[(?:(?P<quote>['\"])(?P<quoted>[^'\"\]]*)(?P=quote)|(?P<bare>[^'\"\]]*))\](?P<attribute>.*)",
    re.DOTALL,
)
_ATTRIBUTE = re.compile(r"\.(?:path|uri|metadata|output_file)|\.metadata\[(['\"]).*\1\]|", re.DOTALL)
# Text that is part of a placeholder but lost its `{{`, e.g. `{$.inputs...}` or `$.outputs...}}`.
_STRAY = re.compile(r"\{?\$\.(?:inputs|outputs|pipeline_)")


@dataclass(frozen=True)
class Placeholder:
    """One ``{{...}}`` occurrence at ``value[start:end]``."""

    start: int
    end: int
    text: str
    direction: str | None = None  # "inputs" | "outputs" for input/output placeholders
    section: str | None = None  # "parameters" | "artifacts"
    name: str | None = None
    quote: str | None = None  # "'" (the only form KFP resolves everywhere), '"' or "" (unquoted)
    attribute: str = ""  # "", ".path", ".uri", ".metadata", ".metadata['k']", ".output_file"
    problem: str | None = None  # why it is malformed, if it is

    @property
    def is_io(self) -> bool:
        return self.direction is not None and self.problem is None


@dataclass(frozen=True)
class BraceProblem:
    """Placeholder text with unbalanced braces at ``value[start:]``."""

    start: int
    message: str


def io_placeholder(direction: str, section: str, name: str, attribute: str = "") -> str:
    """The canonical text of an input/output placeholder."""
    return f"{{{{$.{direction}.{section}['{name}']{attribute}}}}}"


def _attribute_problem(direction: str, section: str, attribute: str) -> str | None:
    if not _ATTRIBUTE.fullmatch(attribute):
        return f"unknown placeholder attribute {attribute!r}"
    if section == "artifacts":
        if attribute in ("", ".output_file"):
            return "artifact placeholder needs .path or .uri"
        return None
    if attribute in (".path", ".uri") or attribute.startswith(".metadata"):
        return f"parameter placeholder cannot have {attribute.split('[')[0]}"
    if direction == "outputs" and attribute != ".output_file":
        return "output parameter placeholder needs .output_file"
    if direction == "inputs" and attribute:
        return f"input parameter placeholder cannot have {attribute}"
    return None


def _parse(start: int, end: int, text: str) -> Placeholder:
    p = _parse_text(text)
    return Placeholder(start, end, p.text, p.direction, p.section, p.name, p.quote, p.attribute, p.problem)


@lru_cache(maxsize=4096)
def _parse_text(text: str) -> Placeholder:
    """Parse one placeholder text (positions 0, 0); the same few texts recur in every component."""
    start = end = 0
    content = text[2:-2]
    if content == "$":
        return Placeholder(start, end, text)
    if not content.startswith("$."):
        return Placeholder(start, end, text, problem=f"unknown placeholder root in {text!r} (expected '$.')")
    rest = content[2:]
    if rest in CONSTANT_PLACEHOLDERS:
        return Placeholder(start, end, text)
    match = _IO.fullmatch(rest)
    if match is None:
        return Placeholder(start, end, text, problem=f"unknown placeholder {text!r}")
    direction, section, attribute = match["direction"], match["section"], match["attribute"]
    name = match["quoted"] if match["quote"] else match["bare"].strip()
    return Placeholder(
        start,
        end,
        text,
        direction=direction,
        section=section,
        name=name,
        quote=match["quote"] or "",
        attribute=attribute,
        problem=_attribute_problem(direction, section, attribute),
    )


_NOTHING: tuple[tuple[Placeholder, ...], tuple[BraceProblem, ...]] = ((), ())


def scan(value: str) -> tuple[tuple[Placeholder, ...], tuple[BraceProblem, ...]]:
    """All placeholders in ``value`` and any unbalanced-brace problems."""
    if "$" not in value and "{{" not in value:
        return _NOTHING
    return _scan(value)


@lru_cache(maxsize=8192)
def _scan(value: str) -> tuple[tuple[Placeholder, ...], tuple[BraceProblem, ...]]:
    # memoized: the same arguments recur across a repository's components
    placeholders: list[Placeholder] = []
    problems: list[BraceProblem] = []
    covered: list[tuple[int, int]] = []
    position = 0
    while True:
        start = value.find("{{", position)
        if start < 0:
            break
        end = value.find("}}", start + 2)
        reopen = value.find("{{", start + 2)
        if end < 0 or 0 <= reopen < end:
            problems.append(BraceProblem(start, "unbalanced braces: '{{' without a matching '}}'"))
            covered.append((start, start + 2))
            position = start + 2
            continue
        while value.startswith("}", end + 2):  # `{{$.x['a']}}}`: the placeholder ends at the last `}}`
            end += 1
        placeholder = _parse(start, end + 2, value[start : end + 2])
        if placeholder.text.endswith("}}}"):
            placeholder = Placeholder(
                start, end + 2, placeholder.text, problem="unbalanced braces: extra '}'"
            )
        placeholders.append(placeholder)
        covered.append((start, end + 2))
        position = end + 2
    if value.count("$.") == sum(p.text.count("$.") for p in placeholders):
        return tuple(placeholders), tuple(problems)  # every `$.` is inside a complete placeholder
    for match in _STRAY.finditer(value):
        if not any(lo <= match.start() < hi for lo, hi in covered):
            problems.append(BraceProblem(match.start(), "unbalanced braces: placeholder without '{{ }}'"))
            break
    return tuple(placeholders), tuple(problems)
