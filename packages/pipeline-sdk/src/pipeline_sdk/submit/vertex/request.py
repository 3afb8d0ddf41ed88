"""The Vertex AI ``CreatePipelineJob`` request, built with aiplatform and never sent from here.

``aiplatform.PipelineJob`` builds it (runtime config from the compiled spec, parameter coercion, labels,
CMEK; each task's caching stays as compiled); :mod:`pipeline_sdk.submit.vertex.client` sends it.
``PipelineJob.submit()`` is deliberately not used: before sending it probes the ``pipeline_root`` bucket and,
if missing, creates it and edits its IAM policy, with no timeout, and logs rather than reports what goes
wrong (:func:`pipeline_sdk.submit.preflight.check_bucket` is the read-only, bounded check used instead).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline_sdk.errors import PreflightError, one_line


@dataclass(frozen=True)
class VertexSettings:
    """Everything the PipelineJob needs besides the compiled template."""

    project: str
    region: str
    pipeline_root: str
    display_name: str
    parameter_values: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
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

    def to_json(self, env: str | None = None) -> str:
        """The request as ``--dry-run`` prints it; ``env`` (the configs/env/ file it was built with) is
        shown beside the body, never sent."""
        described = (
            {"method": "POST", "url": self.url, "env": env} if env else {"method": "POST", "url": self.url}
        )
        return json.dumps({**described, "body": self.body}, indent=2)


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
            # None keeps each task's compiled cachingOptions (a step's own `caching` included); a bool would
            # overwrite every task of every DAG (aiplatform pipeline_jobs.py _set_enable_caching_value;
            # docs/vertex-behaviour.md, caching)
            enable_caching=None,
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
