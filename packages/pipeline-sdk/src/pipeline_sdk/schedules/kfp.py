"""``schedule`` on Kubeflow Pipelines: a recurring run (v2beta1) through ``kfp.Client``, on the same
:class:`~pipeline_sdk.submit.kfp.KfpClient` (bounded calls, one-line errors) and preflight as ``submit``.

KFP's recurring runs have no time zone of their own (the scheduler's, ``CRON_SCHEDULE_TIMEZONE``, UTC by
default), no run count limit, no queueing, and allow 1-10 concurrent runs: such a spec is refused here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from pipeline_sdk.errors import UsageError
from pipeline_sdk.runs.model import timestamp
from pipeline_sdk.schedules.cron import kfp_cron
from pipeline_sdk.schedules.model import ScheduleExists, ScheduleInfo, ScheduleSpec
from pipeline_sdk.schedules.replace import replace_safely
from pipeline_sdk.submit.kfp import KfpClient, _plain, check_host, check_no_custom_jobs
from pipeline_sdk.submit.options import Compiled, SubmitOptions
from pipeline_sdk.submit.preflight import check_images, check_in_registries

#: KFP's API server refuses max_concurrency outside 1-10 (backend job_server.go, validateCreateJobRequest)
MAX_CONCURRENCY = 10
PAGE_SIZE = 100
_STATES = {"ENABLED": "ACTIVE", "ENABLE": "ACTIVE", "DISABLED": "PAUSED", "DISABLE": "PAUSED"}


def check_spec(spec: ScheduleSpec) -> None:
    """Raise :class:`UsageError` for what a KFP recurring run cannot hold."""
    if spec.time_zone is not None:
        raise UsageError(
            "--time-zone: Kubeflow Pipelines reads every cron in its scheduler's time zone "
            "(CRON_SCHEDULE_TIMEZONE of ml-pipeline-scheduledworkflow, UTC by default), not per schedule; "
            "leave --time-zone out and write the cron in that zone"
        )
    if spec.max_runs is not None:
        raise UsageError("--max-runs: a KFP recurring run has no run limit; use --end-time instead")
    if spec.allow_queueing:
        raise UsageError("--allow-queueing: KFP recurring runs do not queue (backend=vertex only)")
    if spec.max_concurrent_runs > MAX_CONCURRENCY:
        raise UsageError(
            f"--max-concurrent-runs {spec.max_concurrent_runs}: Kubeflow Pipelines allows 1-{MAX_CONCURRENCY}"
        )


def recurring_run_body(
    spec: ScheduleSpec, *, spec_json: Mapping[str, Any], parameters: Mapping[str, Any]
) -> dict[str, Any]:
    """The v2beta1 ``RecurringRun`` that ``kfp.Client.create_recurring_run`` sends for ``spec`` (without
    ``experiment_id``, known only once the server is asked)."""
    cron_schedule = {"cron": kfp_cron(spec.cron), "start_time": spec.start_time, "end_time": spec.end_time}
    return {
        "display_name": spec.name,
        "mode": "ENABLE",
        "pipeline_spec": dict(spec_json),
        "runtime_config": {"parameters": dict(parameters)},
        "trigger": {"cron_schedule": {k: v for k, v in cron_schedule.items() if v is not None}},
        "max_concurrency": spec.max_concurrent_runs,
        # default: no catch-up, as on Vertex AI (kfp's own default backfills every missed tick)
        "no_catchup": not spec.catch_up,
    }


def schedule_info(run: Mapping[str, Any]) -> ScheduleInfo:
    """A v2beta1 ``RecurringRun`` (JSON) as a :class:`ScheduleInfo`."""
    run_id = str(run.get("recurring_run_id") or "")
    trigger = run.get("trigger") or {}
    cron = (trigger.get("cron_schedule") or {}).get("cron") or (
        f"every {(trigger.get('periodic_schedule') or {}).get('interval_second')} s"
    )
    status = str(run.get("status") or run.get("mode") or "STATUS_UNSPECIFIED")
    return ScheduleInfo(
        name=str(run.get("display_name") or ""),
        id=run_id,
        resource=run_id,
        cron=str(cron),
        time_zone=None,
        state=_STATES.get(status, status),
        next_run=None,
        last_run=None,
        created=timestamp(run.get("created_at")),
        pipeline=((run.get("pipeline_spec") or {}).get("pipelineInfo") or {}).get("name"),
    )


class RecurringRunClient(KfpClient):
    """:class:`KfpClient` with the recurring-run calls of ``kfp.Client``."""

    def ensure_experiment(self, name: str) -> str:
        """The experiment's ID, creating it if missing (``kfp.Client.create_experiment`` gets or creates)."""
        experiment = self._call(
            f"getting experiment {name}",
            lambda: self._client.create_experiment(name, namespace=self.namespace),
        )
        return str(experiment.experiment_id)

    def create(
        self, package: Path, spec: ScheduleSpec, *, experiment_id: str, parameters: Mapping[str, Any]
    ) -> ScheduleInfo:
        created = self._call(
            "creating the recurring run",
            lambda: self._client.create_recurring_run(
                experiment_id=experiment_id,
                job_name=spec.name,
                start_time=spec.start_time,
                end_time=spec.end_time,
                cron_expression=kfp_cron(spec.cron),
                max_concurrency=spec.max_concurrent_runs,
                no_catchup=not spec.catch_up,
                params=dict(parameters),
                pipeline_package_path=str(package),
                enabled=True,
                # None keeps each task's compiled cachingOptions, as submit does
                enable_caching=None,
            ),
        )
        return schedule_info(_plain(created))

    def list(self, filter: str | None = None) -> list[ScheduleInfo]:
        found: list[ScheduleInfo] = []
        token = ""
        while True:
            page = self._call(
                "listing recurring runs",
                lambda token=token: self._client.list_recurring_runs(
                    page_token=token,
                    page_size=PAGE_SIZE,
                    sort_by="created_at desc",
                    namespace=self.namespace,
                    filter=filter,
                ),
            )
            found += [schedule_info(_plain(run)) for run in page.recurring_runs or []]
            token = str(page.next_page_token or "")
            if not token:
                return found

    def find(self, name: str) -> list[ScheduleInfo]:
        """The recurring runs named ``name``, else the one whose ID it is."""
        from kfp_server_api import ApiException

        predicate = {"operation": "EQUALS", "key": "display_name", "string_value": name}
        found = self.list(json.dumps({"predicates": [predicate]}))
        if found:
            return found
        try:
            run = self._call_raw("reading the recurring run", lambda: self._client.get_recurring_run(name))
        except ApiException as e:
            if e.status in (400, 404):  # 400: not an ID at all
                return []
            raise self._api_error("reading the recurring run", e) from None
        return [schedule_info(_plain(run))]

    def pause(self, info: ScheduleInfo) -> None:
        self._call(
            f"disabling recurring run {info.name}", lambda: self._client.disable_recurring_run(info.id)
        )

    def resume(self, info: ScheduleInfo, *, catch_up: bool) -> None:
        if catch_up:
            raise UsageError(
                "--catch-up: a KFP recurring run catches up or not as created (schedule create --catch-up)"
            )
        self._call(f"enabling recurring run {info.name}", lambda: self._client.enable_recurring_run(info.id))

    def delete(self, info: ScheduleInfo) -> None:
        self._call(f"deleting recurring run {info.name}", lambda: self._client.delete_recurring_run(info.id))


class KfpSchedules:
    """``schedule list|pause|resume|delete`` at ``kfp.host`` (``kfp.namespace``)."""

    def __init__(self, cfg: DictConfig, *, timeout: float, allow_plain_http: bool) -> None:
        self.pipeline = str(cfg.pipeline.name)
        host = check_host(cfg.kfp.host)
        self.client = RecurringRunClient(host, namespace=cfg.kfp.namespace, timeout=timeout)
        self.where = f"the KFP API at {host}"

    def list(self) -> list[ScheduleInfo]:
        return [s for s in self.client.list() if s.pipeline in (None, self.pipeline)]

    def find(self, name: str) -> list[ScheduleInfo]:
        return self.client.find(name)

    def pause(self, info: ScheduleInfo) -> None:
        self.client.pause(info)

    def resume(self, info: ScheduleInfo, *, catch_up: bool) -> None:
        self.client.resume(info, catch_up=catch_up)

    def delete(self, info: ScheduleInfo) -> None:
        self.client.delete(info)


def create_on_kfp(
    cfg: DictConfig, compiled: Compiled, spec: ScheduleSpec, options: SubmitOptions, *, replace: bool
) -> None:
    """Create (``replace``: swap in) the recurring run ``spec`` of ``compiled``; the preflight is submit's."""
    check_spec(spec)
    check_no_custom_jobs(cfg)
    host = check_host(cfg.kfp.host)
    if options.check_images:
        check_in_registries(compiled.images, "Kubeflow Pipelines")
    if options.dry_run:
        body = recurring_run_body(spec, spec_json=compiled.spec, parameters=compiled.parameter_values)
        plan = {
            "env": cfg.get("env"),
            "host": host,
            "experiment": cfg.kfp.experiment,
            "namespace": cfg.kfp.namespace,
            "recurring_run": body,
        }
        options.echo(json.dumps(plan, indent=2))
        return
    if options.check_images:
        check_images(compiled.images, credentials=None, timeout=options.timeout, note=options.note)
    client = RecurringRunClient(host, namespace=cfg.kfp.namespace, timeout=options.timeout)
    old = client.find(spec.name)
    if old and not replace:
        raise ScheduleExists(
            f"schedule {spec.name} already exists (recurring run {old[0].id}, {old[0].state}): pass --replace "
            "to swap it for this one, or delete it first"
        )
    experiment_id = client.ensure_experiment(cfg.kfp.experiment)
    created = replace_safely(
        old,
        lambda: client.create(
            compiled.path, spec, experiment_id=experiment_id, parameters=compiled.parameter_values
        ),
        pause=client.pause,
        resume=lambda s: client.resume(s, catch_up=False),
        delete=client.delete,
        note=options.note,
    )
    options.echo(f"created recurring run {created.id} ({created.name}, {created.state})")
    options.echo(f"ui        {host.rstrip('/')}/#/recurringrun/details/{created.id}")


__all__ = ["KfpSchedules", "RecurringRunClient", "check_spec", "create_on_kfp", "recurring_run_body"]
