"""Pipeline parameter values, checked against the KFP types of the component inputs they feed.

KFP parameters have four types (String, Integer, Float, Boolean); a value must be of its parameter's type
before it reaches the compiled spec or a run's runtime config: an Integer is no Boolean, a Float is finite,
and a null String is ``''`` (KFP has no null; a Hydra app reads ``''`` as "none selected").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from omegaconf import DictConfig, OmegaConf

from pipeline_sdk.errors import ConfigError

#: KFP v1 component input types that are pipeline parameters, and the Python type kfp reads for each.
PARAMETER_TYPES: dict[str, type] = {"String": str, "Integer": int, "Float": float, "Boolean": bool}


def parameter_values(cfg: DictConfig, types: Mapping[str, type]) -> dict[str, Any]:
    """``cfg.params`` checked against ``types`` (an Integer is no Boolean, a Float is finite)."""
    raw = OmegaConf.to_container(cfg.params, resolve=True)
    assert isinstance(raw, dict)
    return checked_values(raw, types)


def checked_values(raw: Mapping[str, Any], types: Mapping[str, type]) -> dict[str, Any]:
    """``raw`` parameter values checked against ``types`` and converted (``None`` → ``''``, 1 → 1.0)."""
    values: dict[str, Any] = {}
    for name, value in raw.items():
        kind = types[name]
        if value is None and kind is str:
            value = ""  # KFP parameters have no null; Hydra apps read '' as "none selected"
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok or (kind is float and not math.isfinite(value)):
            raise ConfigError(
                f"params.{name}: {value!r} is not {kfp_type_name(kind)} (the type of the inputs it feeds)"
            )
        values[str(name)] = value
    return values


def kfp_type_name(kind: type) -> str:
    """``a String``, ``an Integer``: the KFP type of Python type ``kind``, with its article."""
    name = next(name for name, python in PARAMETER_TYPES.items() if python is kind)
    return f"an {name}" if name[0] in "AEIOU" else f"a {name}"


__all__ = ["PARAMETER_TYPES", "checked_values", "kfp_type_name", "parameter_values"]
