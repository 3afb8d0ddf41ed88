"""Is a declared KFP type a parameter or an artifact?

The parameter type names mirror ``kfp.dsl.types.type_utils.PARAMETER_TYPES_MAPPING`` (a test keeps them
equal to the installed kfp's). Names outside both tables are asked of kfp itself when it is installed,
so importing kfp (~0.6 s) is paid only for unusual types.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

Kind = Literal["parameter", "artifact"]

PARAMETER_TYPE_NAMES: frozenset[str] = frozenset(
    {
        "integer",
        "int",
        "double",
        "float",
        "string",
        "str",
        "text",
        "bool",
        "boolean",
        "dict",
        "list",
        "jsonobject",
        "jsonarray",
    }
)
# kfp treats these two special inputs as parameters too.
_SPECIAL_PARAMETERS = frozenset({"PipelineTaskFinalStatus", "TaskConfig"})
ARTIFACT_TYPE_NAMES: frozenset[str] = frozenset(
    {
        "artifact",
        "model",
        "dataset",
        "metrics",
        "classificationmetrics",
        "slicedclassificationmetrics",
        "html",
        "markdown",
    }
)
# v2 IR `parameterType` values.
V2_PARAMETER_TYPES: frozenset[str] = frozenset(
    {"STRING", "NUMBER_INTEGER", "NUMBER_DOUBLE", "BOOLEAN", "LIST", "STRUCT", "TASK_FINAL_STATUS"}
)
_GENERIC = re.compile(r"^(?:typing\.)?([A-Za-z_][\w.]*)\s*\[.*\]$", re.DOTALL)
_VERSIONED = re.compile(r"^(?:system|google)\.([A-Za-z]+)(?:@[\d.]+)?$")


def _short_name(type_name: str) -> str:
    generic = _GENERIC.match(type_name)
    return generic.group(1).rsplit(".", 1)[-1] if generic else type_name


@lru_cache(maxsize=256)
def _ask_kfp(type_name: str) -> Kind | None:
    try:
        from kfp.dsl.types import type_utils
    except Exception:  # kfp missing or broken: fall back to the local table
        return None
    try:
        return "parameter" if type_utils.is_parameter_type(type_name) else "artifact"
    except Exception:
        return None


def kind_of(type_spec: object) -> Kind:
    """Classify a v1 ``type:`` value the way kfp does (untyped and structured types are artifacts)."""
    if not isinstance(type_spec, str):
        return "artifact"
    return _kind_of_name(type_spec)


@lru_cache(maxsize=1024)
def _kind_of_name(type_spec: str) -> Kind:
    if type_spec in _SPECIAL_PARAMETERS or _short_name(type_spec).lower() in PARAMETER_TYPE_NAMES:
        return "parameter"
    versioned = _VERSIONED.match(type_spec)
    if type_spec.lower() in ARTIFACT_TYPE_NAMES or versioned:
        return "artifact"
    return _ask_kfp(type_spec) or "artifact"
