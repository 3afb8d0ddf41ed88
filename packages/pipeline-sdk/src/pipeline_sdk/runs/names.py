"""``RUN`` as the user gives it: a short ID, the backend's full name for it, or the link submit printed."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline_sdk.errors import UsageError

# aiplatform's PipelineJob ID rule (pipeline_jobs.py _VALID_NAME_PATTERN)
_JOB_ID = r"[a-z][-a-z0-9]{0,127}"
_VERTEX_NAME = re.compile(
    rf"projects/(?P<project>[^/\s]+)/locations/(?P<location>[a-z0-9-]+)/pipelineJobs/(?P<id>{_JOB_ID})"
)
_VERTEX_CONSOLE = re.compile(
    rf"https://console\.cloud\.google\.com/vertex-ai/locations/(?P<location>[a-z0-9-]+)/pipelines/runs/"
    rf"(?P<id>{_JOB_ID})\?project=(?P<project>[^&\s]+)"
)
# KFP run IDs are UUIDs; the link is the one submit prints (HOST/#/runs/details/ID)
_KFP_ID = r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}"
_KFP_LINK = re.compile(rf"https?://\S+/#/runs/details/(?P<id>{_KFP_ID})")


@dataclass(frozen=True)
class VertexJobName:
    """``projects/PROJECT/locations/LOCATION/pipelineJobs/ID``; project and location None when the user gave
    the short ID (the config's apply)."""

    id: str
    project: str | None = None
    location: str | None = None


def vertex_job(run: str) -> VertexJobName:
    """Read ``RUN`` for Vertex AI; a :class:`UsageError` when it is none of the accepted forms."""
    text = run.strip()
    if re.fullmatch(_JOB_ID, text):
        return VertexJobName(text)
    match = _VERTEX_NAME.fullmatch(text) or _VERTEX_CONSOLE.fullmatch(text)
    if match:
        return VertexJobName(match["id"], match["project"], match["location"])
    raise UsageError(
        f"RUN {run!r} is not a pipeline job: give its ID (lowercase letters, digits and dashes, as "
        "`runs list` shows it), projects/P/locations/L/pipelineJobs/ID, or its console link"
    )


def kfp_run(run: str) -> str:
    """Read ``RUN`` for KFP: the run ID; a :class:`UsageError` when it is none of the accepted forms."""
    text = run.strip()
    if re.fullmatch(_KFP_ID, text):
        return text
    match = _KFP_LINK.fullmatch(text)
    if match:
        return match["id"]
    raise UsageError(
        f"RUN {run!r} is not a KFP run: give its ID (as `runs list` shows it) or its link HOST/#/runs/details/ID"
    )


__all__ = ["VertexJobName", "kfp_run", "vertex_job"]
