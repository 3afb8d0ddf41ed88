"""What a schedule is, the same for both backends: the spec ``schedule create`` sends, what ``schedule
list`` shows of one, the errors, and the table."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Protocol

from pipeline_sdk.errors import SubmitError, UsageError
from pipeline_sdk.schedules.cron import check_cron, check_time_zone, parse_time, rfc3339

#: a schedule's NAME (its display name): no ``=``, so it never reads as a Hydra override
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
STATES = ("ACTIVE", "PAUSED", "COMPLETED")


class ScheduleNotFound(SubmitError):
    """No schedule has that name or ID."""


class ScheduleExists(SubmitError):
    """``schedule create NAME`` without ``--replace`` where NAME already exists."""


class ScheduleStateError(SubmitError):
    """Pausing a schedule that is not active, resuming one that is not paused."""


@dataclass(frozen=True)
class ScheduleSpec:
    """When ``schedule create`` starts runs; every value checked (:func:`build_spec`)."""

    name: str
    cron: str  # 5 fields
    time_zone: str | None = None
    start_time: str | None = None  # RFC 3339, UTC
    end_time: str | None = None
    max_concurrent_runs: int = 1
    max_runs: int | None = None
    catch_up: bool | None = None  # None: the flag was not given
    allow_queueing: bool = False


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise UsageError(
            f"schedule name {name!r}: use letters, digits, '.', '_' and '-' (at most 128, starting with a "
            "letter or digit)"
        )
    return name


def build_spec(
    name: str,
    cron: str,
    *,
    time_zone: str | None = None,
    start_time: str | None = None,
    end_time: str | None = None,
    max_concurrent_runs: int = 1,
    max_runs: int | None = None,
    catch_up: bool | None = None,
    allow_queueing: bool = False,
    now: datetime.datetime | None = None,
) -> ScheduleSpec:
    """The checked spec; raises :class:`UsageError` for the first bad value (before any network call)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    check_name(name)
    cron = check_cron(cron)
    if time_zone is not None:
        check_time_zone(time_zone)
    if max_concurrent_runs < 1:
        raise UsageError(f"--max-concurrent-runs must be at least 1, got {max_concurrent_runs}")
    if max_runs is not None and max_runs < 1:
        raise UsageError(f"--max-runs must be at least 1, got {max_runs}")
    start = parse_time(start_time, "--start-time", time_zone) if start_time else None
    end = parse_time(end_time, "--end-time", time_zone) if end_time else None
    if start is not None and start < now:
        # Vertex AI would start every run missed since then at once (sky-uk/kfp-operator#580)
        raise UsageError(
            f"--start-time {start_time} is in the past; leave it out to start now (a past start makes the "
            "service catch up every run since then)"
        )
    if end is not None and end <= (start or now):
        raise UsageError(
            f"--end-time {end_time} is not after "
            + (f"--start-time {start_time}" if start is not None else "now")
        )
    return ScheduleSpec(
        name=name,
        cron=cron,
        time_zone=time_zone,
        start_time=rfc3339(start) if start else None,
        end_time=rfc3339(end) if end else None,
        max_concurrent_runs=max_concurrent_runs,
        max_runs=max_runs,
        catch_up=catch_up,
        allow_queueing=allow_queueing,
    )


@dataclass(frozen=True)
class ScheduleInfo:
    """One schedule as ``schedule list`` shows it; ``resource`` is the backend's full name for it."""

    name: str
    id: str
    resource: str
    cron: str
    time_zone: str | None
    state: str  # ACTIVE, PAUSED or COMPLETED
    next_run: str | None
    last_run: str | None
    created: str | None
    pipeline: str | None = None


class SchedulesBackend(Protocol):
    """What ``schedule list|pause|resume|delete`` ask of a backend (:mod:`.vertex`, :mod:`.kfp`)."""

    def list(self) -> list[ScheduleInfo]: ...

    def find(self, name: str) -> list[ScheduleInfo]: ...

    def pause(self, info: ScheduleInfo) -> None: ...

    def resume(self, info: ScheduleInfo, *, catch_up: bool) -> None: ...

    def delete(self, info: ScheduleInfo) -> None: ...


def one_schedule(found: Sequence[ScheduleInfo], name: str, where: str) -> ScheduleInfo:
    """The one schedule ``name`` picks; raises :class:`ScheduleNotFound` or, for several, :class:`UsageError`."""
    if not found:
        raise ScheduleNotFound(f"no schedule {name} in {where} (see `pipeline-sdk schedule list`)")
    if len(found) > 1:
        raise UsageError(
            f"{len(found)} schedules are named {name}: pass one's ID ({', '.join(s.id for s in found)})"
        )
    return found[0]


def _cell(value: str | None) -> str:
    return value or "-"


def table(schedules: Sequence[ScheduleInfo]) -> str:
    """The schedules as an aligned table."""
    header = ["NAME", "STATE", "CRON", "TIME ZONE", "NEXT RUN", "LAST RUN", "CREATED", "ID"]
    rows = [
        [
            s.name,
            s.state,
            s.cron,
            _cell(s.time_zone),
            _cell(s.next_run),
            _cell(s.last_run),
            _cell(s.created),
            s.id,
        ]
        for s in schedules
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    )


def as_json(schedules: Sequence[ScheduleInfo]) -> str:
    return json.dumps([asdict(s) for s in schedules], indent=2)


__all__ = [
    "STATES",
    "ScheduleExists",
    "ScheduleInfo",
    "ScheduleNotFound",
    "ScheduleSpec",
    "ScheduleStateError",
    "SchedulesBackend",
    "as_json",
    "build_spec",
    "check_name",
    "one_schedule",
    "table",
]
