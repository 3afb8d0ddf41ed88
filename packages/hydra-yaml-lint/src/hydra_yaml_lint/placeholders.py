"""KFP v2 placeholders (``{{$.inputs.parameters['x']}}``) found in an argument string.

What is known is taken from kfp's own source, and a test keeps it in step with the installed kfp: the
constants ``kfp.dsl`` defines (``PIPELINE_JOB_NAME_PLACEHOLDER``, ...) and ``kfp.local.placeholder_utils``
resolves; the input/output forms of ``kfp.dsl.placeholders`` (a bare ``{{$.inputs.artifacts['x']}}`` is
the whole list of a list-of-artifacts input); and ``json_escape[N]``, which ``placeholder_utils`` names
and Google's pipeline components emit (``{{$.json_escape[1]}}``, ``...parameters['x'].json_escape[0]``).

Like kfp's resolver (``kfp.local.placeholder_utils``), a placeholder ends at the first ``}}``. Problems
kfp itself would not notice but that are likely typos (``{{inputs...}}`` without ``$``, a ``$.inputs``
without braces, a ``}`` too many) are marked ``heuristic``: they are reported for Hydra apps only, whose
arguments should hold no other braces.
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
_ATTRIBUTE = re.compile(
    r"\.(?:path|uri|metadata|output_file)|\.metadata\[(['\"]).*\1\]|\.json_escape\[\d+\]|", re.DOTALL
)
_JSON_ESCAPE = re.compile(r"json_escape\[\d+\]")
MAX_SHOWN = 60
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
    attribute: str = (
        ""  # "", ".path", ".uri", ".metadata", ".metadata['k']", ".output_file", ".json_escape[0]"
    )
    problem: str | None = None  # why it is malformed, if it is
    heuristic: bool = False  # the problem is a likely typo kfp itself would pass through

    @property
    def is_io(self) -> bool:
        return self.direction is not None and self.problem is None

    @property
    def is_artifact_list(self) -> bool:
        """A bare artifact placeholder: valid only for a list-of-artifacts input or output."""
        return self.section == "artifacts" and self.attribute == "" and self.problem is None

    @property
    def is_executor_input(self) -> bool:
        """``{{$}}`` or ``{{$.json_escape[N]}}``: the whole executor input, every input included."""
        return self.text == "{{$}}" or _JSON_ESCAPE.fullmatch(self.text[4:-2]) is not None


@dataclass(frozen=True)
class BraceProblem:
    """Placeholder text with unbalanced braces at ``value[start:]``."""

    start: int
    message: str
    heuristic: bool = False


def clip(text: str) -> str:
    """``text`` for a message: one line of at most ``MAX_SHOWN`` characters, never a whole script."""
    line = text.replace("\n", " ").replace("\r", " ")
    return line if len(line) <= MAX_SHOWN else line[: MAX_SHOWN - 3] + "..."


def shown(text: str) -> str:
    return repr(clip(text))


def io_placeholder(direction: str, section: str, name: str, attribute: str = "") -> str:
    """The canonical text of an input/output placeholder."""
    return f"{{{{$.{direction}.{section}['{name}']{attribute}}}}}"


# v1 structures that stand for one placeholder: key -> (direction, section or None for "by declared kind")
STRUCT_PLACEHOLDERS: dict[str, tuple[str, str | None]] = {
    "inputValue": ("inputs", "parameters"),
    "inputPath": ("inputs", None),
    "inputUri": ("inputs", "artifacts"),
    "outputPath": ("outputs", None),
    "outputUri": ("outputs", "artifacts"),
    "inputMetadata": ("inputs", "artifacts"),
    "outputMetadata": ("outputs", "artifacts"),
}
_STRUCT_ATTRIBUTE = {
    "inputPath": ".path",
    "inputUri": ".uri",
    "outputPath": ".path",
    "outputUri": ".uri",
    "inputMetadata": ".metadata",
    "outputMetadata": ".metadata",
}


def struct_direction(struct_key: str) -> str:
    """Whether a v1 structure names an input or an output (``executorInput`` names no port)."""
    return STRUCT_PLACEHOLDERS[struct_key][0] if struct_key in STRUCT_PLACEHOLDERS else "inputs"


def struct_placeholder(struct_key: str, name: str, kind: str | None) -> str:
    """The v2 placeholder text a v1 structure compiles to; ``kind`` is the declared port's
    (``"parameter"``/``"artifact"``), None when the name is not declared."""
    if struct_key == "executorInput":
        return "{{$}}"
    direction, section = STRUCT_PLACEHOLDERS[struct_key]
    if kind is None:
        kind = "parameter" if section == "parameters" else "artifact"
    if section is None:
        section = "parameters" if kind == "parameter" else "artifacts"
    if section == "parameters":
        return io_placeholder(direction, section, name, ".output_file" if direction == "outputs" else "")
    return io_placeholder(direction, section, name, _STRUCT_ATTRIBUTE.get(struct_key, ".path"))


def _attribute_problem(direction: str, section: str, attribute: str) -> str | None:
    if not _ATTRIBUTE.fullmatch(attribute):
        return f"unknown placeholder attribute {attribute!r}"
    if section == "artifacts":
        if attribute == ".output_file" or attribute.startswith(".json_escape"):
            return f"artifact placeholder cannot have {attribute.split('[')[0]}; use .path or .uri"
        return None
    if attribute in (".path", ".uri") or attribute.startswith(".metadata"):
        return f"parameter placeholder cannot have {attribute.split('[')[0]}"
    if direction == "outputs" and attribute != ".output_file":
        return "output parameter placeholder needs .output_file"
    if direction == "inputs" and attribute and not attribute.startswith(".json_escape"):
        return f"input parameter placeholder cannot have {attribute}"
    return None


def _parse(start: int, end: int, text: str) -> Placeholder:
    p = _parse_text(text)
    return Placeholder(
        start, end, p.text, p.direction, p.section, p.name, p.quote, p.attribute, p.problem, p.heuristic
    )


@lru_cache(maxsize=4096)
def _parse_text(text: str) -> Placeholder:
    """Parse one placeholder text (positions 0, 0); the same few texts recur in every component."""
    start = end = 0
    content = text[2:-2]
    if content == "$":
        return Placeholder(start, end, text)
    if not content.startswith("$"):
        problem = f"unknown placeholder root in {shown(text)} (expected '$.')"
        return Placeholder(start, end, text, problem=problem, heuristic=True)
    rest = content[2:]
    if rest in CONSTANT_PLACEHOLDERS or _JSON_ESCAPE.fullmatch(rest):
        return Placeholder(start, end, text)
    match = _IO.fullmatch(rest) if content.startswith("$.") else None
    if match is None:
        return Placeholder(start, end, text, problem=f"unknown placeholder {shown(text)}")
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
    position = inside = 0  # `inside`: occurrences of `$.` within complete placeholders
    while True:
        start = value.find("{{", position)
        if start < 0:
            break
        end = value.find("}}", start + 2)
        reopen = value.find("{{", start + 2)
        if end < 0 or 0 <= reopen < end:
            heuristic = not value.startswith("{{$", start)
            problems.append(BraceProblem(start, "unbalanced braces: '{{' without a matching '}}'", heuristic))
            covered.append((start, start + 2))
            position = start + 2
            continue
        placeholders.append(_parse(start, end + 2, value[start : end + 2]))
        covered.append((start, end + 2))
        inside += value.count("$.", start, end + 2)
        position = end + 2
        if value.startswith("}", position) and value.count("}") > value.count("{"):
            problems.append(BraceProblem(position, "unbalanced braces: extra '}'", heuristic=True))
    if value.count("$.") == inside:
        return tuple(placeholders), tuple(problems)  # every `$.` is inside a complete placeholder
    for match in _STRAY.finditer(value):
        if not any(lo <= match.start() < hi for lo, hi in covered):
            problems.append(
                BraceProblem(match.start(), "unbalanced braces: placeholder without '{{ }}'", heuristic=True)
            )
            break
    return tuple(placeholders), tuple(problems)
