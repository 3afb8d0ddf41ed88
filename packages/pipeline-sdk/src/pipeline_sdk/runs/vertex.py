"""``pipeline-sdk runs`` on Vertex AI: ListPipelineJobs / GetPipelineJob / CancelPipelineJob through the
same client, credentials and endpoint handling as ``submit`` (:mod:`pipeline_sdk.submit.vertex`)."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig

from pipeline_sdk.cloud.credentials import load_credentials
from pipeline_sdk.cloud.endpoints import check_plain_http
from pipeline_sdk.errors import PreflightError, RunAlreadyEnded, RunNotFound
from pipeline_sdk.runs.model import VERTEX_STATES, RunInfo, TaskInfo, text_of, timestamp
from pipeline_sdk.runs.names import VertexJobName, vertex_job
from pipeline_sdk.submit.polling import RunStatus
from pipeline_sdk.submit.preflight import check_region
from pipeline_sdk.submit.vertex.client import VertexClient, run_status
from pipeline_sdk.submit.vertex.request import console_url, endpoint_url

STATES = VERTEX_STATES
#: ListPipelineJobs' page size (the service caps it; fewer pages are fewer calls)
PAGE_SIZE = 100


def run_info(job: dict[str, Any]) -> RunInfo:
    """A PipelineJob resource (JSON) as a :class:`RunInfo`."""
    name = str(job["name"])
    status = run_status(job)
    tasks = tuple(
        TaskInfo(
            name=str(task.get("taskName") or task.get("taskId") or "?"),
            state=str(task.get("state") or "STATE_UNSPECIFIED"),
            started=timestamp(task.get("startTime")),
            ended=timestamp(task.get("endTime")),
            error=text_of(task.get("error"), "message"),
        )
        for task in (job.get("jobDetail") or {}).get("taskDetails") or ()
    )
    return RunInfo(
        id=name.rsplit("/", 1)[1],
        resource=name,
        name=str(job.get("displayName") or ""),
        state=status.state,
        created=timestamp(job.get("createTime")),
        started=timestamp(job.get("startTime")),
        ended=timestamp(job.get("endTime")),
        link=console_url(name),
        parameters=dict((job.get("runtimeConfig") or {}).get("parameterValues") or {}),
        error=status.error,
        tasks=tasks,
    )


class VertexRuns:
    """The pipeline's jobs in ``gcp.project`` / ``gcp.region`` (a full job name picks its own)."""

    noun = "pipeline job"
    states = STATES

    def __init__(self, cfg: DictConfig, *, timeout: float, allow_plain_http: bool) -> None:
        self.pipeline = str(cfg.pipeline.name)
        self.region = check_region(cfg.gcp.region)
        self.api_endpoint = cfg.gcp.api_endpoint
        check_plain_http(
            endpoint_url(self.api_endpoint, self.region), "gcp.api_endpoint", allowed=allow_plain_http
        )
        self.timeout, self.allow_plain_http = timeout, allow_plain_http
        adc = load_credentials(timeout)
        self.credentials = adc.credentials
        project = cfg.gcp.project or adc.project
        if not project:
            raise PreflightError(
                "gcp.project is not set and the credentials name no project; pass gcp.project=PROJECT_ID"
            )
        self.project = str(project)

    def _client(self, project: str, location: str) -> VertexClient:
        endpoint = endpoint_url(self.api_endpoint, location)
        check_plain_http(endpoint, "gcp.api_endpoint", allowed=self.allow_plain_http)
        return VertexClient(endpoint, self.credentials, project, location, self.timeout)

    def _job(self, run: str) -> tuple[VertexClient, str]:
        parsed: VertexJobName = vertex_job(run)
        project, location = parsed.project or self.project, parsed.location or self.region
        return self._client(
            project, location
        ), f"projects/{project}/locations/{location}/pipelineJobs/{parsed.id}"

    def _get(self, run: str) -> tuple[VertexClient, dict[str, Any]]:
        client, name = self._job(run)
        job = client.find(name)
        if job is None:
            raise RunNotFound(
                f"no pipeline job {name} (check the ID with `pipeline-sdk runs list`, and gcp.project / "
                "gcp.region or env=)"
            )
        return client, job

    def list(self, *, limit: int, state: str | None) -> list[RunInfo]:
        client = self._client(self.project, self.region)
        # pipeline_name is the compiled spec's pipelineInfo.name, which is pipeline.name (ListPipelineJobs'
        # documented filter fields; docs/vertex-behaviour.md, runs)
        wanted = f'pipeline_name="{self.pipeline}"'
        if state:
            wanted += f' AND state="PIPELINE_STATE_{state}"'
        parent = f"projects/{self.project}/locations/{self.region}"
        found: list[RunInfo] = []
        token = ""
        while len(found) < limit:
            jobs, token = client.list_page(
                parent, filter=wanted, page_size=min(PAGE_SIZE, limit), page_token=token
            )
            found += [run_info(job) for job in jobs]
            if not token:
                break
        return found[:limit]

    def show(self, run: str) -> RunInfo:
        return run_info(self._get(run)[1])

    def status(self, run: str) -> RunStatus:
        client, name = self._job(run)
        return client.status(name)

    def cancel(self, run: str) -> RunInfo:
        client, job = self._get(run)
        info = run_info(job)
        if run_status(job).terminal:
            raise RunAlreadyEnded(f"pipeline job {info.id} already ended {info.state}: nothing to cancel")

        try:
            client.cancel(info.resource, RunAlreadyEnded)
        except RunAlreadyEnded as e:  # it ended between the two calls
            raise RunAlreadyEnded(f"pipeline job {info.id} can no longer be cancelled: {e}") from None
        return info


__all__ = ["STATES", "VertexRuns", "run_info"]
