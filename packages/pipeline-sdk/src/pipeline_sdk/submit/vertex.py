"""Vertex AI Pipelines backend: build the PipelineJob request with aiplatform, send it, poll it.

``aiplatform.PipelineJob`` builds the request (runtime config from the compiled spec, parameter
coercion, caching, labels, CMEK); the request is then sent with aiplatform's own v1 ``PipelineService``
client over REST with an explicit timeout. ``PipelineJob.submit()`` is deliberately not used: before
sending it probes the ``pipeline_root`` bucket and, if missing, creates it and edits its IAM policy,
with no timeout (offline it retries for minutes) and logs, rather than reports, anything that goes
wrong. :mod:`pipeline_sdk.submit.bucket` does a read-only, bounded check instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline_sdk.submit.api_errors import TRANSIENT_STATUS, describe, failure_from_google, one_line
from pipeline_sdk.submit.errors import BackendApiError, DeadlineExceeded, PreflightError
from pipeline_sdk.submit.polling import RunStatus

_STATE_PREFIX = "PIPELINE_STATE_"
_SUCCEEDED = {"SUCCEEDED"}
_TERMINAL = {"SUCCEEDED", "FAILED", "CANCELLED"}


@dataclass(frozen=True)
class VertexSettings:
    """Everything the PipelineJob needs besides the compiled template."""

    project: str
    region: str
    pipeline_root: str
    display_name: str
    parameter_values: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    enable_caching: bool | None = None
    service_account: str | None = None
    network: str | None = None
    encryption_spec_key_name: str | None = None
    api_endpoint: str | None = None
    job_id: str | None = None


@dataclass(frozen=True)
class VertexRequest:
    """One ``CreatePipelineJob`` call: where it goes and the exact JSON body."""

    endpoint: str
    parent: str
    job_id: str
    body: dict[str, Any]

    @property
    def url(self) -> str:
        return f"{self.endpoint}/v1/{self.parent}/pipelineJobs?pipelineJobId={self.job_id}"

    def to_json(self) -> str:
        return json.dumps({"method": "POST", "url": self.url, "body": self.body}, indent=2)


def endpoint_url(api_endpoint: str | None, region: str) -> str:
    """``gcp.api_endpoint`` as a URL; the regional endpoint when unset."""
    endpoint = api_endpoint or f"{region}-aiplatform.googleapis.com"
    return (endpoint if "://" in endpoint else f"https://{endpoint}").rstrip("/")


def console_url(resource_name: str) -> str:
    """Cloud Console page of ``projects/P/locations/L/pipelineJobs/ID``."""
    parts = resource_name.split("/")
    project, region, job_id = parts[1], parts[3], parts[5]
    return (
        f"https://console.cloud.google.com/vertex-ai/locations/{region}/pipelines/runs/{job_id}"
        f"?project={project}"
    )


def build_request(template: Path, settings: VertexSettings, credentials: Any = None) -> VertexRequest:
    """Build (but do not send) the request for ``template`` with ``settings``; contacts nothing."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import aiplatform

    try:
        job = aiplatform.PipelineJob(
            display_name=settings.display_name,
            template_path=str(template),
            job_id=settings.job_id,
            pipeline_root=settings.pipeline_root,
            parameter_values=settings.parameter_values,
            enable_caching=settings.enable_caching,
            encryption_spec_key_name=settings.encryption_spec_key_name,
            labels=settings.labels,
            # Building the request needs no identity; anonymous keeps a dry run from looking for one.
            credentials=credentials or AnonymousCredentials(),
            project=settings.project,
            location=settings.region,
        )
    except ValueError as e:  # aiplatform's own checks: unknown parameter, bad job id or label
        raise PreflightError(f"cannot build the Vertex AI PipelineJob: {one_line(e)}") from None
    body = job.to_dict()
    # What PipelineJob.submit() sets on the resource just before sending it.
    if settings.service_account:
        body["serviceAccount"] = settings.service_account
    if settings.network:
        body["network"] = settings.network
    return VertexRequest(
        endpoint=endpoint_url(settings.api_endpoint, settings.region),
        parent=f"projects/{settings.project}/locations/{settings.region}",
        job_id=job.job_id,
        body=body,
    )


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
    import requests
    from google.api_core import exceptions as api_exceptions

    try:
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
    except requests.exceptions.Timeout:
        raise DeadlineExceeded(
            f"{what}: Vertex AI at {endpoint} did not answer within {timeout:g} s (raise --timeout to wait longer)"
        ) from None
    except requests.exceptions.RequestException as e:
        raise BackendApiError(
            f"{what}: cannot reach Vertex AI at {endpoint}: {one_line(e)}", transient=True
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
