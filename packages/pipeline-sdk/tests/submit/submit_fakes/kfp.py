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
        self.route("GET", r"/apis/v2beta1/runs/([^/]+)", self._get_run)

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
        state = self.states[min(entry["polls"], len(self.states) - 1)]
        entry["polls"] += 1
        run = {**entry["run"], "state": state}
        if state in ("FAILED", "CANCELED") and self.run_error:
            run["error"] = self.run_error
        return Reply(200, run)
