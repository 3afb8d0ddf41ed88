"""``schedule`` on Vertex AI: a ``Schedule`` whose ``createPipelineJobRequest`` holds the PipelineJob that
``submit`` would create, through aiplatform's v1 ``ScheduleServiceClient`` over REST, every call bounded.

The PipelineJob comes from submit's own code path (preflight, labels, credentials, request building); only
``pipelineJobId`` stays unset, so that Vertex AI names each scheduled run itself.
"""

from __future__ import annotations

import concurrent.futures
import json
from typing import Any

from omegaconf import DictConfig, OmegaConf

from pipeline_sdk.cloud.credentials import load_credentials
from pipeline_sdk.cloud.endpoints import check_plain_http
from pipeline_sdk.errors import BackendApiError, DeadlineExceeded, PreflightError, UsageError
from pipeline_sdk.runs.model import timestamp
from pipeline_sdk.schedules.cron import split_vertex_cron, vertex_cron
from pipeline_sdk.schedules.model import ScheduleExists, ScheduleInfo, ScheduleSpec, ScheduleStateError
from pipeline_sdk.schedules.replace import replace_safely
from pipeline_sdk.submit.options import Compiled, VertexOptions
from pipeline_sdk.submit.preflight import (
    bucket_of,
    build_labels,
    check_accelerators,
    check_bucket,
    check_images,
    check_in_registries,
    check_region,
    package_versions,
)
from pipeline_sdk.submit.vertex.client import ServiceOverRest
from pipeline_sdk.submit.vertex.request import VertexRequest, build_request, endpoint_url
from pipeline_sdk.submit.vertex.submit import custom_job_identity_note, identity, job_settings

#: ListSchedules' page size (the service's default and cap)
PAGE_SIZE = 100


def schedule_body(spec: ScheduleSpec, request: VertexRequest) -> dict[str, Any]:
    """The ``Schedule`` (REST JSON) for ``spec`` that creates ``request``'s PipelineJob on each tick
    (fields: aiplatform_v1 ``types/schedule.py``; docs/vertex-behaviour.md, schedules)."""
    if spec.catch_up:
        raise UsageError(
            "--catch-up: Vertex AI decides catch-up when a paused schedule is resumed (Schedule.catch_up is "
            "output only): pass it to `pipeline-sdk schedule resume NAME --catch-up`"
        )
    body: dict[str, Any] = {
        "displayName": spec.name,
        "cron": vertex_cron(spec.cron, spec.time_zone),
        "maxConcurrentRunCount": spec.max_concurrent_runs,
        "createPipelineJobRequest": {"parent": request.parent, "pipelineJob": request.body},
    }
    optional = {
        "startTime": spec.start_time,
        "endTime": spec.end_time,
        "maxRunCount": spec.max_runs,
        "allowQueueing": spec.allow_queueing or None,
    }
    body.update({key: value for key, value in optional.items() if value is not None})
    return as_sent(body)


def as_sent(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` as the REST transport sends it (proto JSON: int64 as strings, defaults left out); raises
    PreflightError for a field the Schedule message does not have."""
    from google.cloud.aiplatform_v1.types import Schedule
    from google.protobuf import json_format

    try:
        schedule = Schedule.from_json(json.dumps(body))
    except json_format.ParseError as e:
        raise PreflightError(f"cannot build the Vertex AI Schedule: {e}") from None
    return json_format.MessageToDict(Schedule.pb(schedule))


def schedule_info(schedule: dict[str, Any]) -> ScheduleInfo:
    """A Schedule resource (JSON) as a :class:`ScheduleInfo`."""
    name = str(schedule["name"])
    cron, time_zone = split_vertex_cron(str(schedule.get("cron") or ""))
    job = (schedule.get("createPipelineJobRequest") or {}).get("pipelineJob") or {}
    last = schedule.get("lastScheduledRunResponse") or {}
    return ScheduleInfo(
        name=str(schedule.get("displayName") or ""),
        id=name.rsplit("/", 1)[1],
        resource=name,
        cron=cron,
        time_zone=time_zone,
        state=str(schedule.get("state") or "STATE_UNSPECIFIED"),
        next_run=timestamp(schedule.get("nextRunTime")),
        last_run=timestamp(last.get("scheduledRunTime")),
        created=timestamp(schedule.get("createTime")),
        pipeline=((job.get("pipelineSpec") or {}).get("pipelineInfo") or {}).get("name"),
    )


class ScheduleClient(ServiceOverRest):
    """aiplatform's v1 ``ScheduleServiceClient`` over REST in one project and region."""

    def __init__(self, endpoint: str, credentials: Any, project: str, region: str, timeout: float) -> None:
        from google.cloud.aiplatform_v1 import ScheduleServiceClient

        super().__init__(ScheduleServiceClient, endpoint, credentials, project, region, timeout)
        self.parent = f"projects/{project}/locations/{region}"

    @staticmethod
    def _json(schedule: Any) -> dict[str, Any]:
        from google.cloud.aiplatform_v1.types import Schedule

        return json.loads(Schedule.to_json(schedule, use_integers_for_enums=False))

    def create(self, body: dict[str, Any]) -> ScheduleInfo:
        from google.cloud.aiplatform_v1.types import Schedule

        schedule = Schedule.from_json(json.dumps(body))
        created = self._send(
            "creating the schedule", self._client.create_schedule, parent=self.parent, schedule=schedule
        )
        return schedule_info(self._json(created))

    def find(self, name: str) -> list[ScheduleInfo]:
        """The schedules named ``name`` (display name), else the one whose ID or resource name it is."""
        if "/" not in name:
            found = self.list(f'display_name="{name}"')
            if found or not name.isdigit():
                return found
        resource = name if "/" in name else f"{self.parent}/schedules/{name}"
        schedule = self._send(
            "reading the schedule", self._client.get_schedule, name=resource, missing_ok=True
        )
        return [] if schedule is None else [schedule_info(self._json(schedule))]

    def list(self, filter: str) -> list[ScheduleInfo]:
        """Every schedule matching ``filter`` (ListSchedules' filter grammar), page by page."""
        found: list[ScheduleInfo] = []
        token = ""
        while True:
            request = {"parent": self.parent, "filter": filter, "page_size": PAGE_SIZE, "page_token": token}
            pager = self._send("listing schedules", self._client.list_schedules, request=request)
            found += [schedule_info(self._json(s)) for s in pager.schedules]
            token = str(pager.next_page_token)
            if not token:
                return found

    def pause(self, info: ScheduleInfo) -> None:
        self._send(
            f"pausing schedule {info.name}",
            self._client.pause_schedule,
            name=info.resource,
            precondition_error=ScheduleStateError,
        )

    def resume(self, info: ScheduleInfo, *, catch_up: bool) -> None:
        self._send(
            f"resuming schedule {info.name}",
            self._client.resume_schedule,
            name=info.resource,
            catch_up=catch_up,
            precondition_error=ScheduleStateError,
        )

    def delete(self, info: ScheduleInfo) -> None:
        """Delete the schedule and wait (``--timeout``) for the long-running operation to finish."""
        from google.api_core import exceptions as api_exceptions

        from pipeline_sdk.cloud.failures import describe, failure_from_google

        operation = self._send(
            f"deleting schedule {info.name}", self._client.delete_schedule, name=info.resource
        )
        try:
            operation.result(timeout=self.timeout)
        except concurrent.futures.TimeoutError:
            raise DeadlineExceeded(
                f"deleting schedule {info.name}: not done within {self.timeout:g} s (raise --timeout; the "
                "deletion goes on)"
            ) from None
        except api_exceptions.GoogleAPICallError as e:
            failure = failure_from_google(e)
            raise BackendApiError(
                f"deleting schedule {info.name}: "
                + describe(failure, service="Vertex AI", project=self.project, region=self.region)
            ) from None


class VertexSchedules:
    """``schedule list|pause|resume|delete`` in ``gcp.project`` / ``gcp.region``."""

    def __init__(self, cfg: DictConfig, *, timeout: float, allow_plain_http: bool) -> None:
        self.pipeline = str(cfg.pipeline.name)
        region = check_region(cfg.gcp.region)
        endpoint = endpoint_url(cfg.gcp.api_endpoint, region)
        check_plain_http(endpoint, "gcp.api_endpoint", allowed=allow_plain_http)
        adc = load_credentials(timeout)
        project = cfg.gcp.project or adc.project
        if not project:
            raise PreflightError(
                "gcp.project is not set and the credentials name no project; pass gcp.project=PROJECT_ID"
            )
        self.client = ScheduleClient(endpoint, adc.credentials, str(project), region, timeout)
        self.where = f"project {project}, region {region}"

    def list(self) -> list[ScheduleInfo]:
        """This pipeline's schedules (ListSchedules cannot filter by pipeline: the rest are dropped here)."""
        found = self.client.list("create_pipeline_job_request:*")
        return [s for s in found if s.pipeline in (None, self.pipeline)]

    def find(self, name: str) -> list[ScheduleInfo]:
        return self.client.find(name)

    def pause(self, info: ScheduleInfo) -> None:
        self.client.pause(info)

    def resume(self, info: ScheduleInfo, *, catch_up: bool) -> None:
        self.client.resume(info, catch_up=catch_up)

    def delete(self, info: ScheduleInfo) -> None:
        self.client.delete(info)


def create_on_vertex(
    cfg: DictConfig, compiled: Compiled, spec: ScheduleSpec, options: VertexOptions, *, replace: bool
) -> None:
    """Create (``replace``: swap in) the schedule ``spec`` of ``compiled``; the preflight is submit's."""
    gcp = cfg.gcp
    region = check_region(gcp.region)
    bucket = bucket_of(gcp.pipeline_root)
    check_accelerators(compiled.spec)
    user_labels = OmegaConf.to_container(gcp.labels) if gcp.labels is not None else {}
    assert isinstance(user_labels, dict)
    labels = build_labels(user_labels, package_versions(compiled.images))
    credentials, project = identity(gcp.project, options)
    if options.check_images:
        check_in_registries(compiled.images, "Vertex AI")
    request = build_request(
        compiled.path, job_settings(cfg, compiled, project, region, labels, None), credentials
    )
    check_plain_http(request.endpoint, "gcp.api_endpoint", allowed=options.allow_plain_http)
    body = schedule_body(spec, request)
    note = custom_job_identity_note(cfg, compiled.spec)
    if note:
        options.note(note)
    if gcp.experiment:
        options.note(
            f"note: gcp.experiment={gcp.experiment}: a scheduled sweep's trials are recorded in it, but the "
            "scheduled runs themselves are not (submit adds a run to the experiment once it starts; nothing "
            "does that for a schedule's runs)"
        )
    if options.dry_run:
        url = f"{request.endpoint}/v1/{request.parent}/schedules"
        env = cfg.get("env")
        described = {"method": "POST", "url": url, **({"env": env} if env else {})}
        options.echo(json.dumps({**described, "body": body}, indent=2))
        return
    if options.check_images:
        check_images(compiled.images, credentials=credentials, timeout=options.timeout, note=options.note)
    if not options.skip_bucket_check:
        check_bucket(bucket, project=project, region=region, credentials=credentials, timeout=options.timeout)
    client = ScheduleClient(request.endpoint, credentials, project, region, options.timeout)
    old = client.find(spec.name)
    if old and not replace:
        raise ScheduleExists(
            f"schedule {spec.name} already exists ({old[0].resource}, {old[0].state}): pass --replace to swap "
            "it for this one, or delete it first"
        )
    created = replace_safely(
        old,
        lambda: client.create(body),
        pause=client.pause,
        resume=lambda s: client.resume(s, catch_up=False),
        delete=client.delete,
        note=options.note,
    )
    options.echo(f"created schedule {created.resource} ({created.name}, {created.state})")
    options.echo(f"next run  {created.next_run or '-'}")


__all__ = [
    "ScheduleClient",
    "VertexSchedules",
    "as_sent",
    "create_on_vertex",
    "schedule_body",
    "schedule_info",
]
