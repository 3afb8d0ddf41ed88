"""Is a declared KFP type a parameter or an artifact?

For a v1 component this follows what kfp 2 does when it loads one (``kfp.dsl.structures``,
``ComponentSpec.from_v1_component_spec``): ``typing.`` is dropped, ``List[...]``/``Dict[...]`` count as
``List``/``Dict``, and a type is a parameter when it is ``PipelineTaskFinalStatus`` or its lower-cased name
is in ``kfp.dsl.types.type_utils.PARAMETER_TYPES_MAPPING``; everything else -- an untyped input, a
structured type ``{GCSPath: ...}``, an unknown name -- is an artifact. Tests keep the table equal to the
installed kfp's and compare the classification with kfp loading real components, so kfp (0.6 s to import)
is never imported here.
"""

from __future__ import annotations

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
_TASK_FINAL_STATUS = "PipelineTaskFinalStatus"
# v2 IR `parameterType` values.
V2_PARAMETER_TYPES: frozenset[str] = frozenset(
    {"STRING", "NUMBER_INTEGER", "NUMBER_DOUBLE", "BOOLEAN", "LIST", "STRUCT", "TASK_FINAL_STATUS"}
)


def kind_of(type_spec: object) -> Kind:
    """Classify a v1 ``type:`` value the way kfp 2 loads it."""
    if not isinstance(type_spec, str):
        return "artifact"
    return _kind_of_name(type_spec)


@lru_cache(maxsize=1024)
def _kind_of_name(type_name: str) -> Kind:
    name = type_name.removeprefix("typing.")
    if name.lower().startswith(("list", "dict")):
        name = name.split("[")[0]
    return "parameter" if name == _TASK_FINAL_STATUS or name.lower() in PARAMETER_TYPE_NAMES else "artifact"
