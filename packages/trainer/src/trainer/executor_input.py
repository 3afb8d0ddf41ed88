"""Where the trainer writes its KFP ExecutorOutput, whichever placeholder the pipeline backend substitutes.

The component passes both ``kfp.output_file={{$.outputs.output_file}}`` and ``kfp.executor_input='{{$}}'``.
Vertex AI substitutes the first (the pipeline IR's executor-output placeholder); the open-source KFP
backend's launcher does not, but substitutes ``{{$}}`` anywhere in an argument, and the executor input
names the same file as ``outputs.outputFile`` (kubeflow/pipelines ``backend/src/v2/component/
launcher_v2.go``; pipeline-sdk's docs/vertex-behaviour.md). A ``kfp.*`` argument that still holds ``{{$``
was not substituted and counts as not given.

The executor input is JSON from the backend, not Hydra syntax: before Hydra parses the command line it is
re-serialised so that Hydra's single-quoted string gives it back unchanged (no ``'``, no ``${``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from trainer.errors import TrainerError

ARG = "kfp.executor_input="
KFP_KEYS = "kfp."
UNSUBSTITUTED = "{{$"


def substituted(value: Any) -> str | None:
    """``value`` as text, or None when it is unset or a placeholder the backend left as it was."""
    if value is None or value == "" or UNSUBSTITUTED in str(value):
        return None
    return str(value)


def hydra_safe_args(args: list[str]) -> list[str]:
    """``args`` ready for Hydra: a ``kfp.*`` argument the backend left unsubstituted becomes ``null`` (Hydra
    cannot parse ``{{``), and ``kfp.executor_input`` is re-serialised. Raises TrainerError when the executor
    input is something other than a JSON object."""
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
                # inside JSON strings ' and $ may be written as \u0027 / \u0024: no quote ends the Hydra
                # string, no ${ starts an interpolation, no backslash stands before a quote
                text = json.dumps(_json_object(value), separators=(",", ":"))
                arg = ARG + "'" + text.replace("'", "\\u0027").replace("$", "\\u0024") + "'"
        rewritten.append(arg)
    return rewritten


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as e:
        raise TrainerError(f"kfp.executor_input is not JSON ({e})") from None
    if not isinstance(value, dict):
        raise TrainerError("kfp.executor_input is not a JSON object (KFP's ExecutorInput)")
    return value


def output_file(kfp_cfg: Any) -> Path | None:
    """The ExecutorOutput file: ``kfp.output_file`` when substituted, else the executor input's
    ``outputs.outputFile``; None when neither names one."""
    given = substituted(kfp_cfg.get("output_file"))
    if given:
        return Path(given)
    executor_input = substituted(kfp_cfg.get("executor_input"))
    if executor_input is None:
        return None
    named = _json_object(executor_input).get("outputs", {}).get("outputFile")
    if not isinstance(named, str) or not named:
        raise TrainerError("kfp.executor_input names no outputs.outputFile")
    return Path(named)


__all__ = ["hydra_safe_args", "output_file", "substituted"]
