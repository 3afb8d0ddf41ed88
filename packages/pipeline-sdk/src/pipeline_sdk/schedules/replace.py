"""``schedule create --replace``: swap a schedule for a new spec without a gap and without a double run."""

from __future__ import annotations

from collections.abc import Callable

from pipeline_sdk.schedules.model import ScheduleInfo


def replace_safely(
    old: list[ScheduleInfo],
    create: Callable[[], ScheduleInfo],
    *,
    pause: Callable[[ScheduleInfo], None],
    resume: Callable[[ScheduleInfo], None],
    delete: Callable[[ScheduleInfo], None],
    note: Callable[[str], None],
) -> ScheduleInfo:
    """``--replace``: pause the active ``old`` schedules, create the new one, then delete the old ones.

    Pausing first means no tick starts a run of both; creating before deleting means a refused create
    leaves the old schedules as they were (they are resumed)."""
    paused = [s for s in old if s.state == "ACTIVE"]
    for schedule in paused:
        pause(schedule)
    try:
        created = create()
    except BaseException:
        for schedule in paused:
            resume(schedule)
        if paused:
            note(f"resumed {', '.join(s.id for s in paused)}: the old schedule stays as it was")
        raise
    for schedule in old:
        delete(schedule)
        note(f"deleted the old schedule {schedule.resource}")
    return created


__all__ = ["replace_safely"]
