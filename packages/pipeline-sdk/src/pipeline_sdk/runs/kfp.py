"""``pipeline-sdk runs`` on Kubeflow Pipelines: the v2beta1 runs API through the same ``kfp.Client``
wrapper as ``submit`` (:class:`pipeline_sdk.submit.kfp.KfpClient`)."""

from __future__ import annotations

import json
from typing import Any

from omegaconf import DictConfig

from pipeline_sdk.errors import RunAlreadyEnded, RunNotFound
from pipeline_sdk.runs.model import KFP_STATES, RunInfo, TaskInfo, text_of, timestamp
from pipeline_sdk.runs.names import kfp_run
from pipeline_sdk.submit.kfp import KfpClient, check_host, run_status
from pipeline_sdk.submit.polling import RunStatus

STATES = KFP_STATES
PAGE_SIZE = 100


def pipeline_name(run: dict[str, Any]) -> str | None:
    """The name in the run's pipeline spec (``pipelineInfo.name``); None for a run of a stored pipeline."""
    spec = run.get("pipeline_spec") or {}
    info = spec.get("pipelineInfo") or spec.get("pipeline_info") or {}
    return str(info["name"]) if isinstance(info, dict) and info.get("name") else None


class KfpRuns:
    """The pipeline's runs in experiment ``kfp.experiment`` on the KFP API at ``kfp.host``."""

    noun = "run"
    states = STATES

    def __init__(self, cfg: DictConfig, *, timeout: float, allow_plain_http: bool = False) -> None:
        # allow_plain_http: unused, as in submit: no Google token is sent to a KFP API
        self.host = check_host(cfg.kfp.host)
        self.pipeline, self.experiment = str(cfg.pipeline.name), str(cfg.kfp.experiment)
        self.client = KfpClient(self.host, namespace=cfg.kfp.namespace, timeout=timeout)

    def run_info(self, run: dict[str, Any]) -> RunInfo:
        status = run_status(run)
        tasks = tuple(
            TaskInfo(
                name=str(task.get("display_name") or task.get("task_id") or "?"),
                state=str(task.get("state") or "RUNTIME_STATE_UNSPECIFIED"),
                started=timestamp(task.get("start_time")),
                ended=timestamp(task.get("end_time")),
                error=text_of(task.get("error"), "message"),
            )
            for task in (run.get("run_details") or {}).get("task_details") or ()
        )
        run_id = str(run["run_id"])
        return RunInfo(
            id=run_id,
            resource=run_id,
            name=str(run.get("display_name") or ""),
            state=status.state,
            created=timestamp(run.get("created_at")),
            started=timestamp(run.get("scheduled_at")),
            ended=timestamp(run.get("finished_at")),
            link=self.client.run_url(run_id),
            parameters=dict((run.get("runtime_config") or {}).get("parameters") or {}),
            error=status.error,
            tasks=tasks,
        )

    def _get(self, run: str) -> dict[str, Any]:
        run_id = kfp_run(run)
        found = self.client.find_run(run_id)
        if found is None:
            raise RunNotFound(
                f"no run {run_id} on the KFP API at {self.host} (check the ID with `pipeline-sdk runs list`)"
            )
        return found

    def list(self, *, limit: int, state: str | None) -> list[RunInfo]:
        experiment = self.client.experiment_id(self.experiment)
        if experiment is None:
            return []  # no experiment of that name: nothing was submitted to it yet
        # the API filters by experiment and state; the pipeline's name is only in each run's spec
        predicates = [{"key": "state", "operation": "EQUALS", "string_value": state}] if state else []
        wanted = json.dumps({"predicates": predicates}) if predicates else None
        found: list[RunInfo] = []
        token = ""
        while len(found) < limit:
            runs, token = self.client.list_runs_page(
                experiment_id=experiment, page_size=PAGE_SIZE, page_token=token, filter=wanted
            )
            found += [self.run_info(run) for run in runs if pipeline_name(run) == self.pipeline]
            if not token:
                break
        return found[:limit]

    def show(self, run: str) -> RunInfo:
        return self.run_info(self._get(run))

    def status(self, run: str) -> RunStatus:
        return self.client.status(kfp_run(run))

    def cancel(self, run: str) -> RunInfo:
        found = self._get(run)
        info = self.run_info(found)
        if run_status(found).terminal:
            raise RunAlreadyEnded(f"run {info.id} already ended {info.state}: nothing to cancel")

        try:
            self.client.terminate_run(info.id, RunAlreadyEnded)
        except RunAlreadyEnded as e:  # it ended between the two calls
            raise RunAlreadyEnded(f"run {info.id} can no longer be terminated: {e}") from None
        return info


__all__ = ["STATES", "KfpRuns", "pipeline_name"]
