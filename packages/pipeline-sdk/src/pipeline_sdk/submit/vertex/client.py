"""Vertex AI's v1 ``PipelineService`` over REST: send the request, read the job; every call bounded."""

from __future__ import annotations

import json
from typing import Any

from pipeline_sdk.cloud.failures import TRANSIENT_STATUS, describe, failure_from_google, reporting
from pipeline_sdk.errors import BackendApiError, one_line
from pipeline_sdk.submit.polling import RunStatus
from pipeline_sdk.submit.vertex.request import VertexRequest

_STATE_PREFIX = "PIPELINE_STATE_"
_SUCCEEDED = {"SUCCEEDED"}
_TERMINAL = {"SUCCEEDED", "FAILED", "CANCELLED"}


def run_status(job: dict[str, Any]) -> RunStatus:
    """Read a PipelineJob resource (JSON) as a :class:`RunStatus`."""
    state = str(job.get("state", "PIPELINE_STATE_UNSPECIFIED")).removeprefix(_STATE_PREFIX)
    error = job.get("error") or {}
    message = one_line(error.get("message", "")) if isinstance(error, dict) else one_line(error)
    return RunStatus(state, state in _TERMINAL, state in _SUCCEEDED, message or None)


def call_google(
    what: str,
    method: Any,
    *,
    endpoint: str,
    project: str,
    region: str,
    timeout: float,
    missing_ok: bool = False,
    **kwargs: Any,
) -> Any:
    """Call a GAPIC ``method`` bounded by ``timeout`` s, mapping every failure to one SubmitError line
    (with ``missing_ok``, a 404 returns ``None`` instead)."""
    from google.api_core import exceptions as api_exceptions

    try:
        with reporting(what, f"Vertex AI at {endpoint}", timeout):
            # retry=None: a create is not idempotent, and a wait must not hide behind silent retries.
            return method(**kwargs, timeout=timeout, retry=None)
    except api_exceptions.NotFound as e:
        if missing_ok:
            return None
        raise BackendApiError(
            describe(failure_from_google(e), service="Vertex AI", project=project, region=region)
        ) from None
    except api_exceptions.GoogleAPICallError as e:
        failure = failure_from_google(e)
        raise BackendApiError(
            describe(failure, service="Vertex AI", project=project, region=region),
            transient=failure.code in TRANSIENT_STATUS,
        ) from None


class VertexClient:
    """aiplatform's v1 ``PipelineServiceClient`` over REST; every call bounded by ``timeout`` seconds."""

    def __init__(self, endpoint: str, credentials: Any, project: str, region: str, timeout: float) -> None:
        from google.cloud.aiplatform_v1 import PipelineServiceClient

        self.endpoint, self.project, self.region, self.timeout = endpoint, project, region, timeout
        self._client = PipelineServiceClient(
            credentials=credentials, transport="rest", client_options={"api_endpoint": endpoint}
        )

    def _call(self, what: str, method: Any, **kwargs: Any) -> dict[str, Any]:
        from google.cloud.aiplatform_v1.types import PipelineJob

        response = call_google(
            what,
            method,
            endpoint=self.endpoint,
            project=self.project,
            region=self.region,
            timeout=self.timeout,
            **kwargs,
        )
        return json.loads(PipelineJob.to_json(response, use_integers_for_enums=False))

    def create(self, request: VertexRequest) -> dict[str, Any]:
        """Send ``request``; return the created PipelineJob resource (JSON)."""
        from google.cloud.aiplatform_v1.types import PipelineJob

        job = PipelineJob.from_json(json.dumps(request.body))
        return self._call(
            "creating the pipeline job",
            self._client.create_pipeline_job,
            parent=request.parent,
            pipeline_job=job,
            pipeline_job_id=request.job_id,
        )

    def get(self, name: str) -> dict[str, Any]:
        """The PipelineJob resource (JSON) as it is now."""
        return self._call("polling the pipeline job", self._client.get_pipeline_job, name=name)

    def status(self, name: str) -> RunStatus:
        """Fetch the job's current state."""
        return run_status(self.get(name))
