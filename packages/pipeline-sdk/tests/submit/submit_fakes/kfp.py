"""The Kubeflow Pipelines API (v2beta1 REST) as kfp.Client uses it."""

from __future__ import annotations

import json
import re
from typing import Any

from submit_fakes.server import FakeServer, Recorded, Reply


class FakeKfp(FakeServer):
    """The Kubeflow Pipelines API (v2beta1 REST) as kfp.Client uses it: healthz, experiments, runs."""

    def __init__(self) -> None:
        super().__init__()
        self.experiments: list[dict[str, Any]] = [{"experiment_id": "exp-default", "display_name": "Default"}]
        self.runs: dict[str, dict[str, Any]] = {}
        self.states: list[str] = ["PENDING", "RUNNING", "SUCCEEDED"]
        self.run_error: dict[str, Any] | None = None
        self.create_reply: Reply | None = None
        self.route("GET", r"/apis/v2beta1/healthz", lambda m, r: Reply(200, {"multi_user": False}))
        self.route("GET", r"/apis/v2beta1/experiments", self._list_experiments)
        self.route("POST", r"/apis/v2beta1/experiments", self._create_experiment)
        self.route("POST", r"/apis/v2beta1/runs", self._create_run)
        self.route("GET", r"/apis/v2beta1/runs", self._list_runs)
        self.route("GET", r"/apis/v2beta1/runs/([^/:]+)", self._get_run)
        self.route("POST", r"/apis/v2beta1/runs/([^/:]+):terminate", self._terminate_run)

    def _list_experiments(self, match: re.Match[str], rec: Recorded) -> Reply:
        predicate = json.loads(rec.query["filter"][0])["predicates"][0]
        wanted = predicate.get("string_value") or predicate.get("stringValue")
        found = [e for e in self.experiments if e["display_name"] == wanted]
        return Reply(200, {"experiments": found, "total_size": len(found)} if found else {})

    def _create_experiment(self, match: re.Match[str], rec: Recorded) -> Reply:
        experiment = {
            "experiment_id": f"exp-{len(self.experiments)}",
            "display_name": rec.body["display_name"],
        }
        self.experiments.append(experiment)
        return Reply(200, experiment)

    def _create_run(self, match: re.Match[str], rec: Recorded) -> Reply:
        if self.create_reply is not None:
            return self.create_reply
        run_id = f"run-{len(self.runs) + 1}"
        run = {**rec.body, "run_id": run_id, "state": "PENDING", "created_at": "2026-11-26T05:00:00Z"}
        self.runs[run_id] = {"run": run, "polls": 0}
        return Reply(200, run)

    def _get_run(self, match: re.Match[str], rec: Recorded) -> Reply:
        entry = self.runs.get(match[1])
        if entry is None:
            return Reply(
                404, {"error": f"Run {match[1]} not found", "code": 5, "message": f"Run {match[1]} not found"}
            )
        run = self._run_now(entry)
        entry["polls"] += 1
        return Reply(200, run)

    def _run_now(self, entry: dict[str, Any]) -> dict[str, Any]:
        """The run as a read sees it now: the next of its states (its own, else ``self.states``)."""
        states = entry.get("states") or self.states
        state = states[min(entry["polls"], len(states) - 1)]
        run = {**entry["run"], "state": state}
        error = entry.get("error") or self.run_error
        if state in ("FAILED", "CANCELED") and error:
            run["error"] = error
        return run

    def add_run(
        self,
        run_id: str,
        *,
        states: tuple[str, ...] = ("RUNNING",),
        experiment_id: str = "exp-default",
        pipeline_name: str = "hydra-fashion-mnist-training",
        created_at: str = "2026-11-26T05:00:00Z",
        **fields: Any,
    ) -> None:
        """A run made elsewhere (the KFP UI, another client): its states, one per read."""
        run = {
            "run_id": run_id,
            "display_name": run_id,
            "experiment_id": experiment_id,
            "created_at": created_at,
            "pipeline_spec": {"pipelineInfo": {"name": pipeline_name}},
            **fields,
        }
        self.runs[run_id] = {"run": run, "polls": 0, "states": list(states)}

    def _list_runs(self, match: re.Match[str], rec: Recorded) -> Reply:
        """ListRuns (v2beta1): ``experiment_id``, ``filter`` (JSON predicates; EQUALS on ``state`` here),
        ``sort_by`` ``created_at desc``, ``page_size`` and ``page_token`` (backend run_server.go, list.go)."""
        wanted: dict[str, str] = {}
        if rec.query.get("filter"):
            for predicate in json.loads(rec.query["filter"][0]).get("predicates", []):
                value = predicate.get("string_value") or predicate.get("stringValue")
                if predicate.get("key") != "state" or predicate.get("operation") != "EQUALS":
                    return Reply(
                        400, {"error": "unsupported filter", "code": 3, "message": "unsupported filter"}
                    )
                wanted["state"] = value
        experiment = rec.query.get("experiment_id", [None])[0]
        runs = [self._run_now(entry) for entry in self.runs.values()]
        runs = [
            run
            for run in runs
            if (experiment is None or run.get("experiment_id") == experiment)
            and all(run.get(key) == value for key, value in wanted.items())
        ]
        sort_by = rec.query.get("sort_by", [""])[0]
        runs.sort(key=lambda run: run.get("created_at", ""), reverse=sort_by == "created_at desc")
        size = int(rec.query.get("page_size", ["10"])[0])
        start = int(rec.query.get("page_token", ["0"])[0] or 0)
        reply: dict[str, Any] = {"runs": runs[start : start + size], "total_size": len(runs)}
        if start + size < len(runs):
            reply["next_page_token"] = str(start + size)
        return Reply(200, reply)

    def _terminate_run(self, match: re.Match[str], rec: Recorded) -> Reply:
        """TerminateRun: only a PENDING, RUNNING or PAUSED run (or one without a state); any other is 400
        InvalidInput "Row not found" (backend storage/run_store.go TerminateRun)."""
        entry = self.runs.get(match[1])
        if entry is None:
            return Reply(
                404, {"error": f"Run {match[1]} not found", "code": 5, "message": f"Run {match[1]} not found"}
            )
        state = self._run_now(entry)["state"]
        if state not in ("PENDING", "RUNNING", "PAUSED", "RUNTIME_STATE_UNSPECIFIED"):
            message = f"Failed to terminate a run {match[1]}. Row not found"
            return Reply(400, {"error": message, "code": 3, "message": message})
        entry.update(states=["CANCELING", "CANCELED"], polls=0)
        return Reply(200, {})
