"""Vertex AI ScheduleService (v1 REST) and its delete operation, as a mixin.

:class:`ScheduleRoutes` adds the routes to any :class:`~submit_fakes.server.FakeServer` that has an
``authorized(rec)`` method; :class:`FakeVertexSchedules` is :class:`~submit_fakes.google.FakeGoogle` with them.

What it emulates (each with its public source in docs/vertex-behaviour.md, "Schedules"):

- ``POST .../schedules``: ``displayName`` required; ``cron`` is 5 fields, optionally after ``TZ=ZONE`` or
  ``CRON_TZ=ZONE`` with an IANA zone; ``maxConcurrentRunCount`` is required and at least 1;
  ``createPipelineJobRequest.parent`` is the schedule's own location; ``endTime`` after ``startTime``; anything
  else is 400 INVALID_ARGUMENT. The schedule is ACTIVE, with a numeric ID (the service names it).
- ``GET .../schedules?filter=...``: terms ``display_name="X"`` and ``create_pipeline_job_request:*`` joined by
  AND; newest first; ``pageSize`` (default 100) and ``pageToken``.
- ``:pause`` only an ACTIVE schedule, ``:resume`` (``catchUp``) only a PAUSED one: else 400 FAILED_PRECONDITION.
- ``DELETE``: a long-running operation (``schedule_lro_polls`` reads until done), polled at ``/ui/`` or ``/v1/``.

The tests use ``.schedules`` (resource name -> the Schedule JSON), ``add_schedule(...)``, ``.resumes`` (the
``catchUp`` each resume asked for) and ``schedule_create_reply`` (a :class:`Reply` sent instead of creating).
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from submit_fakes.google import FakeGoogle
from submit_fakes.server import Recorded, Reply, google_error

V1 = "type.googleapis.com/google.cloud.aiplatform.v1."
_LOCATION = r"projects/([^/]+)/locations/([^/]+)"
_STAMP = "2026-12-06T10:00:00Z"
_NEXT_RUN = "2026-12-07T02:00:00Z"
_FIELD = re.compile(r"^(\*|\w+(-\w+)?)(/\d+)?(,(\*|\w+(-\w+)?)(/\d+)?)*$")
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


def cron_problem(cron: str) -> str | None:
    """Why Vertex AI would refuse ``cron`` (unix-cron, optional ``TZ=``/``CRON_TZ=`` prefix), or None."""
    import zoneinfo

    fields = cron.split()
    if fields and fields[0].startswith(("TZ=", "CRON_TZ=")):
        zone = fields.pop(0).split("=", 1)[1]
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return f"Invalid time zone {zone!r} in cron {cron!r}."
    if len(fields) != 5 or not all(_FIELD.match(f) for f in fields):
        return f"Invalid cron {cron!r}."
    for text, (low, high) in zip(fields, _RANGES, strict=True):
        for number in re.findall(r"(?<![/\w])\d+", text):
            if not low <= int(number) <= high:
                return f"Invalid cron {cron!r}: {number} is out of range."
    return None


class ScheduleRoutes:
    """Routes for a FakeServer subclass; call :meth:`install_schedules` from its ``__init__``."""

    def install_schedules(self) -> None:
        self.schedules: dict[str, dict[str, Any]] = {}
        self.schedule_operations: dict[str, dict[str, Any]] = {}
        self.resumes: list[bool] = []
        self.schedule_lro_polls = 0
        self.schedule_create_reply: Reply | None = None
        self._schedule_ids = itertools.count(7_000_000_001)
        schedule = _LOCATION + r"/schedules/([^/:]+)"
        self.route("POST", rf"/v1/{_LOCATION}/schedules", self._create_schedule)
        self.route("GET", rf"/v1/{_LOCATION}/schedules", self._list_schedules)
        self.route("GET", rf"/v1/({schedule})", self._get_schedule)
        self.route("POST", rf"/v1/({schedule}):pause", self._pause_schedule)
        self.route("POST", rf"/v1/({schedule}):resume", self._resume_schedule)
        self.route("DELETE", rf"/v1/({schedule})", self._delete_schedule)
        self.route("GET", rf"/(?:v1|ui)/({schedule}/operations/[^/:]+)", self._get_schedule_operation)

    # ---- helpers the tests use -------------------------------------------------------------------------
    def add_schedule(
        self,
        project: str,
        location: str,
        display_name: str,
        *,
        state: str = "ACTIVE",
        cron: str = "TZ=UTC 0 3 * * *",
        pipeline_name: str = "hydra-fashion-mnist-training",
        create_time: str = "2026-12-01T10:00:00Z",
        **fields: Any,
    ) -> str:
        """A schedule made elsewhere (the console, an earlier create); returns its resource name."""
        name = f"projects/{project}/locations/{location}/schedules/{next(self._schedule_ids)}"
        self.schedules[name] = {
            "name": name,
            "displayName": display_name,
            "cron": cron,
            "state": state,
            "maxConcurrentRunCount": "1",
            "createTime": create_time,
            "createPipelineJobRequest": {
                "parent": f"projects/{project}/locations/{location}",
                "pipelineJob": {"pipelineSpec": {"pipelineInfo": {"name": pipeline_name}}},
            },
            **fields,
        }
        return name

    def schedule_creates(self) -> list[Recorded]:
        return self.sent("POST", rf"/v1/{_LOCATION}/schedules")

    # ---- routes ----------------------------------------------------------------------------------------
    def _refused(self, rec: Recorded) -> Reply | None:
        if not self.authorized(rec):  # type: ignore[attr-defined]
            return google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        return None

    def _create_schedule(self, match: re.Match[str], rec: Recorded) -> Reply:
        refused = self._refused(rec)
        if refused is not None:
            return refused
        if self.schedule_create_reply is not None:
            return self.schedule_create_reply
        body = rec.body if isinstance(rec.body, dict) else {}
        parent = f"projects/{match[1]}/locations/{match[2]}"
        problem = None
        if not body.get("displayName"):
            problem = "display_name is required."
        elif "cron" in body and cron_problem(str(body["cron"])):
            problem = cron_problem(str(body["cron"]))
        elif int(body.get("maxConcurrentRunCount") or 0) < 1:
            problem = "max_concurrent_run_count must be greater than 0."
        elif (body.get("createPipelineJobRequest") or {}).get("parent") != parent:
            problem = f"create_pipeline_job_request.parent must be {parent}."
        elif body.get("startTime") and body.get("endTime") and body["endTime"] <= body["startTime"]:
            problem = "end_time must be after start_time."
        if problem:
            return google_error(400, "INVALID_ARGUMENT", problem)
        name = f"{parent}/schedules/{next(self._schedule_ids)}"
        schedule = {
            **body,
            "name": name,
            "state": "ACTIVE",
            "createTime": _STAMP,
            "updateTime": _STAMP,
            "nextRunTime": body.get("startTime") or _NEXT_RUN,
            "startTime": body.get("startTime") or _STAMP,
        }
        self.schedules[name] = schedule
        return Reply(200, schedule)

    def _list_schedules(self, match: re.Match[str], rec: Recorded) -> Reply:
        refused = self._refused(rec)
        if refused is not None:
            return refused
        text = rec.query.get("filter", [""])[0]
        named: str | None = None
        pipelines_only = False
        for term in filter(None, (t.strip() for t in re.split(r"\bAND\b", text))):
            found = re.fullmatch(r'display_name\s*=\s*"([^"]*)"', term)
            if found:
                named = found[1]
            elif term == "create_pipeline_job_request:*":
                pipelines_only = True
            else:
                return google_error(400, "INVALID_ARGUMENT", f"Unsupported filter: {term}")
        prefix = f"projects/{match[1]}/locations/{match[2]}/schedules/"
        schedules = [
            s
            for name, s in self.schedules.items()
            if name.startswith(prefix)
            and (named is None or s.get("displayName") == named)
            and (not pipelines_only or "createPipelineJobRequest" in s)
        ]
        schedules.sort(key=lambda s: s.get("createTime", ""), reverse=True)
        size = int(rec.query.get("pageSize", ["100"])[0] or 100)
        start = int(rec.query.get("pageToken", ["0"])[0] or 0)
        page = schedules[start : start + size]
        reply: dict[str, Any] = {"schedules": page} if page else {}
        if start + size < len(schedules):
            reply["nextPageToken"] = str(start + size)
        return Reply(200, reply)

    def _schedule(self, name: str) -> dict[str, Any] | Reply:
        schedule = self.schedules.get(name)
        if schedule is None:
            return google_error(404, "NOT_FOUND", f"Schedule {name} not found.")
        return schedule

    def _get_schedule(self, match: re.Match[str], rec: Recorded) -> Reply:
        refused = self._refused(rec)
        found = refused or self._schedule(match[1])
        return found if isinstance(found, Reply) else Reply(200, found)

    def _pause_schedule(self, match: re.Match[str], rec: Recorded) -> Reply:
        return self._change_state(match[1], rec, "ACTIVE", "PAUSED", "lastPauseTime", "paused")

    def _resume_schedule(self, match: re.Match[str], rec: Recorded) -> Reply:
        reply = self._change_state(match[1], rec, "PAUSED", "ACTIVE", "lastResumeTime", "resumed")
        if reply.status == 200:
            catch_up = bool((rec.body if isinstance(rec.body, dict) else {}).get("catchUp", False))
            self.resumes.append(catch_up)
            self.schedules[match[1]]["catchUp"] = catch_up
        return reply

    def _change_state(self, name: str, rec: Recorded, wanted: str, new: str, stamp: str, verb: str) -> Reply:
        refused = self._refused(rec)
        found = refused or self._schedule(name)
        if isinstance(found, Reply):
            return found
        if found["state"] != wanted:
            return google_error(
                400,
                "FAILED_PRECONDITION",
                f"Schedule {name} is in state {found['state']} and cannot be {verb}.",
            )
        found.update({"state": new, stamp: _STAMP})
        return Reply(200, {})

    def _delete_schedule(self, match: re.Match[str], rec: Recorded) -> Reply:
        refused = self._refused(rec)
        found = refused or self._schedule(match[1])
        if isinstance(found, Reply):
            return found
        del self.schedules[match[1]]
        operation = {
            "name": f"{match[1]}/operations/{next(self._schedule_ids)}",
            "metadata": {"@type": V1 + "DeleteOperationMetadata", "genericMetadata": {"createTime": _STAMP}},
            "polls_left": self.schedule_lro_polls,
        }
        self.schedule_operations[operation["name"]] = operation
        return Reply(200, self._operation_json(operation))

    @staticmethod
    def _operation_json(operation: dict[str, Any]) -> dict[str, Any]:
        shown = {"name": operation["name"], "metadata": operation["metadata"]}
        if operation["polls_left"] > 0:
            return shown
        return {**shown, "done": True, "response": {"@type": "type.googleapis.com/google.protobuf.Empty"}}

    def _get_schedule_operation(self, match: re.Match[str], rec: Recorded) -> Reply:
        refused = self._refused(rec)
        if refused is not None:
            return refused
        operation = self.schedule_operations.get(match[1])
        if operation is None:
            return google_error(404, "NOT_FOUND", f"Operation {match[1]} not found.")
        operation["polls_left"] = max(0, operation["polls_left"] - 1)
        return Reply(200, self._operation_json(operation))


class FakeVertexSchedules(ScheduleRoutes, FakeGoogle):
    """FakeGoogle (token endpoint, PipelineService, Cloud Storage, registry) with the ScheduleService routes."""

    def __init__(self, public_key_pem: bytes) -> None:
        super().__init__(public_key_pem)
        self.install_schedules()


__all__ = ["FakeVertexSchedules", "ScheduleRoutes", "cron_problem"]
