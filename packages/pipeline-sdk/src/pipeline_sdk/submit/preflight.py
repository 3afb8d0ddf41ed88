"""Checks made before anything is sent to Vertex AI: each failure is one :class:`PreflightError` line."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pipeline_sdk.submit.errors import PreflightError

_GCS_URI = re.compile(r"^gs://(?P<bucket>[a-z0-9][a-z0-9._-]{1,220}[a-z0-9])(?:/(?P<path>.*))?$")


def _suggest(value: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(value, choices, n=3, cutoff=0.6)
    return f"did you mean {', '.join(close)}?" if close else f"choose from {', '.join(sorted(choices))}"


def check_region(region: str | None) -> str:
    """Return ``region`` if Vertex AI serves it (aiplatform's list of regions)."""
    from google.cloud.aiplatform.constants.base import SUPPORTED_REGIONS

    if not region:
        raise PreflightError("gcp.region is not set; pass gcp.region=REGION, e.g. gcp.region=us-central1")
    if region not in SUPPORTED_REGIONS:
        raise PreflightError(
            f"gcp.region={region} is not a Vertex AI region; {_suggest(region, list(SUPPORTED_REGIONS))}"
        )
    return region


def bucket_of(pipeline_root: str | None) -> str:
    """Return the bucket of a ``gs://BUCKET/PATH`` pipeline root, rejecting anything else."""
    if not pipeline_root:
        raise PreflightError(
            "gcp.pipeline_root is not set; Vertex AI writes the run's artifacts there: "
            "pass gcp.pipeline_root=gs://BUCKET/PATH"
        )
    match = _GCS_URI.match(pipeline_root)
    if not match:
        raise PreflightError(
            f"gcp.pipeline_root={pipeline_root} is not a Cloud Storage URI; Vertex AI needs gs://BUCKET/PATH"
        )
    return match["bucket"]


def accelerators(spec: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Yield ``(executor, accelerator type)`` for every executor of a compiled spec that asks for one."""
    executors = spec.get("deploymentSpec", {}).get("executors", {})
    for name, executor in sorted(executors.items()):
        accelerator = executor.get("container", {}).get("resources", {}).get("accelerator") or {}
        kind = accelerator.get("resourceType") or accelerator.get("type")
        if kind:
            yield name, str(kind)


def check_accelerators(spec: Mapping[str, Any]) -> None:
    """Every literal accelerator type in ``spec`` must be one of Vertex AI's ``AcceleratorType`` names."""
    from google.cloud.aiplatform_v1.types.accelerator_type import AcceleratorType

    known = [n for n in AcceleratorType.__members__ if n != "ACCELERATOR_TYPE_UNSPECIFIED"]
    for executor, kind in accelerators(spec):
        if "{{" in kind:  # set from a pipeline parameter at run time: Vertex checks it then
            continue
        if kind not in known:
            raise PreflightError(
                f"{executor}: accelerator type {kind} is not a Vertex AI accelerator; {_suggest(kind, known)}"
            )
