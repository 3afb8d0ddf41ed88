"""Vertex AI's v1 ``PipelineService`` over REST: send the request, read the job; every call bounded."""

from __future__ import annotations

import json
from typing import Any

from pipeline_sdk.cloud.failures import TRANSIENT_STATUS, describe, failure_from_google, reporting
from pipeline_sdk.errors import BackendApiError, SdkError, one_line
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
    precondition_error: type[SdkError] | None = None,
    **kwargs: Any,
) -> Any:
    """Call a GAPIC ``method`` bounded by ``timeout`` s, mapping every failure to one SubmitError line
    (with ``missing_ok``, a 404 returns ``None`` instead; with ``precondition_error``, a 400
    FAILED_PRECONDITION raises that error with the service's message)."""
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
        # over REST api_core picks the exception class by HTTP status (400: BadRequest): read the status
        if precondition_error is not None and failure.status == "FAILED_PRECONDITION":
            raise precondition_error(one_line(failure.message)) from None
        raise BackendApiError(
            describe(failure, service="Vertex AI", project=project, region=region),
            transient=failure.code in TRANSIENT_STATUS,
        ) from None


def _job_json(job: Any) -> dict[str, Any]:
    from google.cloud.aiplatform_v1.types import PipelineJob

    return json.loads(PipelineJob.to_json(job, use_integers_for_enums=False))


class ServiceOverRest:
    """One of aiplatform's v1 service clients over REST in one project and region; :meth:`_send` makes each
    call through :func:`call_google`, bounded by ``timeout`` seconds."""

    def __init__(
        self, service: Any, endpoint: str, credentials: Any, project: str, region: str, timeout: float
    ) -> None:
        self.endpoint, self.project, self.region, self.timeout = endpoint, project, region, timeout
        self._client = service(
            credentials=credentials, transport="rest", client_options={"api_endpoint": endpoint}
        )

    def _send(self, what: str, method: Any, **kwargs: Any) -> Any:
        return call_google(
            what,
            method,
            endpoint=self.endpoint,
            project=self.project,
            region=self.region,
            timeout=self.timeout,
            **kwargs,
        )


class VertexClient(ServiceOverRest):
    """aiplatform's v1 ``PipelineServiceClient`` over REST; every call bounded by ``timeout`` seconds."""

    def __init__(self, endpoint: str, credentials: Any, project: str, region: str, timeout: float) -> None:
        from google.cloud.aiplatform_v1 import PipelineServiceClient

        super().__init__(PipelineServiceClient, endpoint, credentials, project, region, timeout)

    def _call(self, what: str, method: Any, **kwargs: Any) -> dict[str, Any]:
        return _job_json(self._send(what, method, **kwargs))

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

    def find(self, name: str) -> dict[str, Any] | None:
        """The PipelineJob resource (JSON), or None when there is no such job (404)."""
        job = self._send(
            "reading the pipeline job", self._client.get_pipeline_job, name=name, missing_ok=True
        )
        return None if job is None else _job_json(job)

    def list_page(
        self, parent: str, *, filter: str, page_size: int, page_token: str = ""
    ) -> tuple[list[dict[str, Any]], str]:
        """One page of ``ListPipelineJobs`` under ``parent`` (newest first): the jobs (JSON) and the next
        page's token ('' on the last page). Pages are fetched one call at a time, each bounded."""
        request = {
            "parent": parent,
            "filter": filter,
            "page_size": page_size,
            "page_token": page_token,
            "order_by": "create_time desc",
        }
        pager = self._send("listing pipeline jobs", self._client.list_pipeline_jobs, request=request)
        # the pager's attributes are those of the page it has read (it fetches more only when iterated)
        return [_job_json(job) for job in pager.pipeline_jobs], str(pager.next_page_token)

    def cancel(self, name: str, precondition_error: type[SdkError]) -> None:
        """Ask Vertex AI to cancel the job (it ends CANCELLED some time later); a job that can no longer be
        cancelled raises ``precondition_error``."""
        self._send(
            "cancelling the pipeline job",
            self._client.cancel_pipeline_job,
            name=name,
            precondition_error=precondition_error,
        )

    def status(self, name: str) -> RunStatus:
        """Fetch the job's current state."""
        return run_status(self.get(name))
