"""The command line as the pipeline backend hands it over, made safe for Hydra; where the ExecutorOutput goes.

The components pass both ``kfp.output_file={{$.outputs.output_file}}`` and ``kfp.executor_input='{{$}}'``
(as the trainer does, docs/vertex-behaviour.md P1-P5): Vertex AI substitutes the first; the open-source KFP
launcher leaves it as it is but substitutes ``{{$}}``, whose ``outputs.outputFile`` names the same file. A
``kfp.*`` argument that still holds ``{{$`` was not substituted and counts as not given.

The executor input is JSON from the backend, not Hydra syntax: it is re-serialised so that Hydra's
single-quoted string gives it back unchanged (``'`` and ``$`` written as ``\\u0027`` / ``\\u0024``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from model_registry.errors import RegistryError

ARG = "kfp.executor_input="
KFP_KEYS = "kfp."
UNSUBSTITUTED = "{{$"


def substituted(value: Any) -> str | None:
    """``value`` as text, or None when it is unset or a placeholder the backend left as it was."""
    if value is None or value == "" or UNSUBSTITUTED in str(value):
        return None
    return str(value)


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise RegistryError(f"kfp.executor_input is not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise RegistryError("kfp.executor_input is not a JSON object (KFP's ExecutorInput)")
    return value


def hydra_safe_args(args: list[str]) -> list[str]:
    """``args`` ready for Hydra: an unsubstituted ``kfp.*`` argument becomes ``null`` and the executor input
    is re-serialised; :class:`RegistryError` when the executor input is not a JSON object."""
    rewritten = []
    for arg in args:
        key, sep, value = arg.partition("=")
        if sep and key.startswith(KFP_KEYS) and UNSUBSTITUTED in value:
            arg = f"{key}=null"
        elif arg.startswith(ARG):
            value = arg[len(ARG) :]
            if len(value) >= 2 and value[0] == value[-1] == "'":
                value = value[1:-1]
            if value in ("", "null"):
                arg = f"{ARG}null"
            else:
                text = json.dumps(_json_object(value), separators=(",", ":"))
                arg = ARG + "'" + text.replace("'", "\\u0027").replace("$", "\\u0024") + "'"
        rewritten.append(arg)
    return rewritten


def output_file(kfp_cfg: Any) -> Path | None:
    """The ExecutorOutput file: ``kfp.output_file`` when substituted, else the executor input's
    ``outputs.outputFile``; None when neither names one (a run by hand)."""
    given = substituted(kfp_cfg.get("output_file"))
    if given:
        return Path(given)
    executor_input = substituted(kfp_cfg.get("executor_input"))
    if executor_input is None:
        return None
    named = _json_object(executor_input).get("outputs", {}).get("outputFile")
    if not isinstance(named, str) or not named:
        raise RegistryError("kfp.executor_input names no outputs.outputFile")
    return Path(named)


__all__ = ["hydra_safe_args", "output_file", "substituted"]
