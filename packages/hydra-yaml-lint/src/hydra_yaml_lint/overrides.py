"""Parse override arguments with Hydra's override parser, after replacing placeholders by typed samples.

Hydra's ANTLR parser is slow (see benchmarks/results/lint_many_args.md) and importing Hydra costs a fifth
of a second. Overrides of the plain form ``dotted.key=token``, a quoted string without escapes or
interpolations, or a flat list ``[a,b]`` or dict ``{a:1,b:2}`` of such tokens skip it: a property test
checks, against Hydra's parser, that every text this fast path accepts parses to the same key and a
single, non-sweep value. Everything else goes through Hydra.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from hydra_yaml_lint.argshape import ArgShape, Shape
from hydra_yaml_lint.component import Arg, Component
from hydra_yaml_lint.placeholders import Placeholder

_ELEMENT = r"[A-Za-z0-9_./@+-]+"
_DICT_KEY = r"[A-Za-z_][A-Za-z0-9_]*"
SIMPLE_OVERRIDE = re.compile(
    r"(?P<prefix>\+{0,2})(?P<key>[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*)"
    r"=(?P<value>[A-Za-z0-9_./:@+-]*|'[^'\\$]*'|\"[^\"\\$]*\""
    rf"|\[(?:{_ELEMENT}(?:,{_ELEMENT})*)?\]"
    rf"|\{{(?:{_DICT_KEY}:{_ELEMENT}(?:,{_DICT_KEY}:{_ELEMENT})*)?\}})",
    re.ASCII,
)

_CONSTANT_SAMPLES = {
    "{{$}}": '{"inputs": {"parameterValues": {}}, "outputs": {"outputFile": "/tmp/executor_output.json"}}',
    "{{$.outputs.output_file}}": "/gcs/bucket/pipeline-root/run-1/train/executor_output.json",
    "{{$.outputMetadataUri}}": "/gcs/bucket/pipeline-root/run-1/train/executor_output.json",
    "{{$.pipeline_job_name}}": "train-pipeline-20261126043000",
    "{{$.pipeline_job_resource_name}}": "projects/p/locations/us-central1/pipelineJobs/train-pipeline-1",
    "{{$.pipeline_job_uuid}}": "6f1c1f7e-3a5d-4a4e-9a55-0c6d0e1b7f21",
    "{{$.pipeline_task_name}}": "train",
    "{{$.pipeline_task_uuid}}": "1d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
    "{{$.pipeline_root}}": "gs://bucket/pipeline-root",
    "{{$.pipeline_job_create_time_utc}}": "2026-11-26T04:30:00Z",
    "{{$.pipeline_job_schedule_time_utc}}": "2026-11-26T04:30:00Z",
    "{{$.workspace_path}}": "/kfp-workspace",
}
_TYPED_SAMPLES = {
    "integer": "5",
    "int": "5",
    "number_integer": "5",
    "float": "0.5",
    "double": "0.5",
    "number_double": "0.5",
    "bool": "true",
    "boolean": "true",
    "jsonobject": '{"key": "value"}',
    "dict": '{"key": "value"}',
    "struct": '{"key": "value"}',
    "jsonarray": '["a", "b"]',
    "list": '["a", "b"]',
}


@dataclass
class ParsedOverride:
    """An override argument, parsed with samples in place of its placeholders."""

    arg: Arg
    text: str
    key: str | None = None  # group or dotted key, with "@package" when given
    operation: str = "change"  # change | add | force-add | delete
    is_sweep: bool = False
    error: str | None = None


def _sample(placeholder: Placeholder, component: Component) -> str | None:
    constant = _CONSTANT_SAMPLES.get(placeholder.text)
    if constant is not None:
        return constant
    if not placeholder.is_io or placeholder.name is None:
        return None
    if placeholder.section == "artifacts" or placeholder.attribute == ".output_file":
        scheme = "gs://bucket" if placeholder.attribute == ".uri" else "/gcs/bucket"
        if placeholder.attribute.startswith(".metadata"):
            return "{}"
        return f"{scheme}/pipeline-root/run-1/train/{placeholder.name}"
    port = component.port(placeholder.name)
    if port is None:
        return "sample"
    if port.default is not None:
        return port.default
    return _TYPED_SAMPLES.get(port.type_name.lower(), "sample")


def with_samples(arg: Arg, component: Component) -> str | None:
    """``arg.value`` with each placeholder replaced by a sample of its type; None if one is malformed."""
    value = arg.value
    if value is None or arg.brace_problems:
        return None
    if not arg.placeholders:
        return value
    pieces: list[str] = []
    position = 0
    for placeholder in arg.placeholders:
        sample = _sample(placeholder, component)
        if sample is None:
            return None
        pieces.extend((value[position : placeholder.start], sample))
        position = placeholder.end
    pieces.append(value[position:])
    return "".join(pieces)


@lru_cache(maxsize=8192)
def _parse_with_hydra(text: str) -> tuple[str | None, str, bool, str | None]:
    from hydra.core.override_parser.types import OverrideType
    from hydra.errors import HydraException

    try:
        override = _hydra_parser().parse_override(text)
    except HydraException as error:
        return None, "change", False, str(error).strip().splitlines()[0]
    operation = {
        OverrideType.ADD: "add",
        OverrideType.FORCE_ADD: "force-add",
        OverrideType.DEL: "delete",
    }.get(override.type, "change")
    key = override.key_or_group + (f"@{override.package}" if override.package is not None else "")
    return key, operation, override.is_sweep_override(), None


@lru_cache(maxsize=1)
def _hydra_parser():  # type: ignore[no-untyped-def]  # the parser class is imported lazily
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return OverridesParser.create()


def parse_override_text(text: str) -> tuple[str | None, str, bool, str | None]:
    """(key, operation, is_sweep, error) for one override text."""
    simple = SIMPLE_OVERRIDE.fullmatch(text)
    if simple is not None:
        operation = {"": "change", "+": "add", "++": "force-add"}[simple["prefix"]]
        return simple["key"], operation, False, None
    return _parse_with_hydra(text)


def parse_overrides(component: Component, shapes: list[ArgShape]) -> list[ParsedOverride]:
    """Every override-shaped argument among ``shapes`` (the component's, see
    :func:`~hydra_yaml_lint.argshape.arg_shapes`), parsed. Rules ask :meth:`LintContext.overrides
    <hydra_yaml_lint.context.LintContext.overrides>`, which computes them once per component."""
    result: list[ParsedOverride] = []
    for shape in shapes:
        if shape.shape is not Shape.OVERRIDE:
            continue
        text = with_samples(shape.arg, component)
        if text is None or any(p.problem for p in shape.arg.placeholders):
            continue
        key, operation, is_sweep, error = parse_override_text(text)
        result.append(ParsedOverride(shape.arg, text, key, operation, is_sweep, error))
    return result
