"""Kubeflow Pipelines recurring runs (v2beta1 REST) as ``kfp.Client`` uses them, as a mixin.

:class:`RecurringRunRoutes` adds the routes to a :class:`~submit_fakes.kfp.FakeKfp`;
:class:`FakeKfpSchedules` is FakeKfp with them. What it emulates (docs/vertex-behaviour.md, "Schedules"):

- ``POST /apis/v2beta1/recurringruns``: ``max_concurrency`` 1-10 and a cron of robfig/cron's 6 fields
  (seconds first), else 400 with the API server's messages (backend job_server.go, validateCreateJobRequest);
  ``mode`` ENABLE makes the status ENABLED.
- ``GET /apis/v2beta1/recurringruns``: ``filter`` (JSON predicates, EQUALS on ``display_name``),
  ``sort_by`` ``created_at desc``, ``page_size``, ``page_token``; ``GET .../ID`` (404 when missing).
- ``POST .../ID:enable`` / ``:disable`` (the status, again or not) and ``DELETE .../ID``.

The tests use ``.recurring_runs`` (ID -> the RecurringRun JSON) and ``add_recurring_run(...)``.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

from submit_fakes.kfp import FakeKfp
from submit_fakes.server import Recorded, Reply

_STAMP = "2026-12-06T10:00:00Z"
_ROBFIG_FIELD = re.compile(r"^(\*|\?|\w+(-\w+)?)(/\d+)?(,(\*|\w+(-\w+)?)(/\d+)?)*$")


def _error(status: int, message: str, code: int = 3) -> Reply:
    return Reply(status, {"error": message, "code": code, "message": message})


class RecurringRunRoutes:
    """Routes for FakeKfp; call :meth:`install_recurring_runs` from its ``__init__``."""

    def install_recurring_runs(self) -> None:
        self.recurring_runs: dict[str, dict[str, Any]] = {}
        self._recurring_ids = itertools.count(1)
        one = r"/apis/v2beta1/recurringruns/([^/:]+)"
        self.route("POST", r"/apis/v2beta1/recurringruns", self._create_recurring_run)
        self.route("GET", r"/apis/v2beta1/recurringruns", self._list_recurring_runs)
        self.route("GET", one, self._get_recurring_run)
        self.route("POST", one + ":enable", lambda m, r: self._set_status(m, "ENABLED"))
        self.route("POST", one + ":disable", lambda m, r: self._set_status(m, "DISABLED"))
        self.route("DELETE", one, self._delete_recurring_run)

    def add_recurring_run(
        self,
        display_name: str,
        *,
        status: str = "ENABLED",
        cron: str = "0 0 3 * * *",
        pipeline_name: str = "hydra-fashion-mnist-training",
        created_at: str = "2026-12-01T10:00:00Z",
    ) -> str:
        run_id = f"00000000-0000-4000-8000-{next(self._recurring_ids):012d}"
        self.recurring_runs[run_id] = {
            "recurring_run_id": run_id,
            "display_name": display_name,
            "status": status,
            "mode": "ENABLE" if status == "ENABLED" else "DISABLE",
            "trigger": {"cron_schedule": {"cron": cron}},
            "max_concurrency": "1",
            "created_at": created_at,
            "experiment_id": "exp-default",
            "pipeline_spec": {"pipelineInfo": {"name": pipeline_name}},
        }
        return run_id

    def recurring_run_creates(self) -> list[Recorded]:
        return self.sent("POST", r"/apis/v2beta1/recurringruns")  # type: ignore[attr-defined]

    def _create_recurring_run(self, match: re.Match[str], rec: Recorded) -> Reply:
        body = rec.body if isinstance(rec.body, dict) else {}
        concurrency = int(body.get("max_concurrency") or 0)
        if concurrency != 0 and not 1 <= concurrency <= 10:
            return _error(
                400, f"The max concurrency of the job is out of range. Support 1-10. Received {concurrency}."
            )
        cron = ((body.get("trigger") or {}).get("cron_schedule") or {}).get("cron")
        if cron is not None:
            fields = str(cron).split()
            if len(fields) != 6 or not all(_ROBFIG_FIELD.match(f) for f in fields):
                return _error(
                    400,
                    "Schedule cron is not a supported format(https://godoc.org/github.com/robfig/cron). "
                    f"Error: Expected 6 fields, found {len(fields)}: {cron}",
                )
        run_id = f"00000000-0000-4000-8000-{next(self._recurring_ids):012d}"
        run = {
            **body,
            "recurring_run_id": run_id,
            "status": "ENABLED" if body.get("mode", "ENABLE") == "ENABLE" else "DISABLED",
            "created_at": _STAMP,
            "updated_at": _STAMP,
        }
        self.recurring_runs[run_id] = run
        return Reply(200, run)

    def _list_recurring_runs(self, match: re.Match[str], rec: Recorded) -> Reply:
        named = None
        if rec.query.get("filter"):
            for predicate in json.loads(rec.query["filter"][0]).get("predicates", []):
                if predicate.get("key") != "display_name" or predicate.get("operation") != "EQUALS":
                    return _error(400, "unsupported filter")
                named = predicate.get("string_value") or predicate.get("stringValue")
        runs = [r for r in self.recurring_runs.values() if named is None or r["display_name"] == named]
        sort_by = rec.query.get("sort_by", [""])[0]
        runs.sort(key=lambda r: r.get("created_at", ""), reverse=sort_by == "created_at desc")
        size = int(rec.query.get("page_size", ["10"])[0])
        start = int(rec.query.get("page_token", ["0"])[0] or 0)
        # the field is declared `recurringRuns` in the proto (kfp_server_api ListRecurringRunsResponse)
        reply: dict[str, Any] = {"recurringRuns": runs[start : start + size], "total_size": len(runs)}
        if start + size < len(runs):
            reply["next_page_token"] = str(start + size)
        return Reply(200, reply)

    def _missing(self, run_id: str) -> Reply:
        return _error(404, f"RecurringRun {run_id} not found", code=5)

    def _get_recurring_run(self, match: re.Match[str], rec: Recorded) -> Reply:
        run = self.recurring_runs.get(match[1])
        return Reply(200, run) if run else self._missing(match[1])

    def _set_status(self, match: re.Match[str], status: str) -> Reply:
        run = self.recurring_runs.get(match[1])
        if run is None:
            return self._missing(match[1])
        run.update(status=status, mode="ENABLE" if status == "ENABLED" else "DISABLE")
        return Reply(200, {})

    def _delete_recurring_run(self, match: re.Match[str], rec: Recorded) -> Reply:
        if self.recurring_runs.pop(match[1], None) is None:
            return self._missing(match[1])
        return Reply(200, {})


class FakeKfpSchedules(RecurringRunRoutes, FakeKfp):
    """FakeKfp (healthz, experiments, runs) with the recurring-run routes."""

    def __init__(self) -> None:
        super().__init__()
        self.install_recurring_runs()


__all__ = ["FakeKfpSchedules", "RecurringRunRoutes"]
