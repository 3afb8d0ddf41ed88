"""A task input's ``parameterExpressionSelector``, evaluated the way Vertex AI Pipelines reports it.

kfp compiles a ParallelFor item's field ``item.NAME`` to ``parseJson(string_value)["NAME"]``: the item's
*string* value, parsed as JSON. An item that is a JSON object (kfp's form for ``dsl.ParallelFor([{...}]``)
fails there with "Failed to parseJson from string" (kubeflow/pipelines#12191, reported from the official
docs' sample; the KFP backend's driver serialises any value for ``string_value`` and accepts it). kfp.local
reads a dict item's field directly and cannot see the difference, so ``pipeline-sdk run`` evaluates
selectors here, with the stricter service's rule: only a string value is parsed.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: the one form kfp 2.x compiles (kfp/compiler/pipeline_spec_builder.py)
_FIELD_OF_STRING = re.compile(r'parseJson\(string_value\)\[(?P<field>"(?:[^"\\]|\\.)*")\]')


class ExpressionError(ValueError):
    """A selector the service would fail on; the message is the service's reason."""


def select(value: Any, expression: str) -> Any:
    """``expression`` applied to a loop item's ``value`` (the Python form of its JSON)."""
    match = _FIELD_OF_STRING.fullmatch(expression)
    if match is None:
        raise ExpressionError(f"unsupported parameter expression {expression!r}")
    field = json.loads(match["field"])
    if not isinstance(value, str):
        kind = type(value).__name__
        raise ExpressionError(
            f"Failed to parseJson from string: the loop item is a JSON {_json_kind(value)} ({kind}), not a "
            "JSON string; Vertex AI reads fields of string items only (kubeflow/pipelines#12191)"
        )
    try:
        parsed = json.loads(value)
    except ValueError:
        raise ExpressionError(f"Failed to parseJson from string {value!r}") from None
    if not isinstance(parsed, dict) or field not in parsed:
        raise ExpressionError(f"the loop item {value!r} has no field {field!r}")
    return parsed[field]


def _json_kind(value: Any) -> str:
    kinds = {dict: "object", list: "array", bool: "boolean", type(None): "null"}
    return kinds.get(type(value), "number")


__all__ = ["ExpressionError", "select"]
