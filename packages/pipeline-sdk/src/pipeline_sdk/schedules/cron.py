"""The schedule's time specification, checked here before anything is sent: a 5-field cron, an IANA time
zone, and start/end times.

Vertex AI takes the 5-field cron with the time zone as a ``TZ=`` prefix (``Schedule.cron``); Kubeflow
Pipelines' scheduler parses a 6-field cron whose first field is seconds (robfig/cron), in its own time zone.
Only what both accept passes: numbers, ``*``, ``a-b``, ``*/n``, ``a-b/n`` and lists of them, month and
weekday names (JAN-DEC, SUN-SAT), weekdays 0-6.
"""

from __future__ import annotations

import datetime
import difflib
import re

from pipeline_sdk.errors import UsageError

#: (name, lowest, highest, names) of each field, in order
FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day-of-month", 1, 31, ()),
    ("month", 1, 12, ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")),
    ("day-of-week", 0, 6, ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")),
)
_ITEM = re.compile(r"^(?:(?P<star>\*)|(?P<low>\w+)(?:-(?P<high>\w+))?)(?:/(?P<step>\w+))?$")
_HELP = "minute hour day-of-month month day-of-week, e.g. '0 3 * * *' for 03:00 every day"


def _value(text: str, field: str, low: int, high: int, names: tuple[str, ...], cron: str) -> int:
    if text.upper() in names:
        return names.index(text.upper()) + low
    if not text.isdigit():
        raise UsageError(
            f"--cron {cron!r}: {field} {text!r} is not a number"
            + (f" or one of {names[0]}-{names[-1]}" if names else "")
        )
    value = int(text)
    if not low <= value <= high:
        raise UsageError(f"--cron {cron!r}: {field} {value} is out of range {low}-{high}")
    return value


def _check_field(text: str, field: str, low: int, high: int, names: tuple[str, ...], cron: str) -> None:
    for item in text.split(","):
        match = _ITEM.match(item)
        if match is None:
            raise UsageError(f"--cron {cron!r}: {field} {item!r} is not a value, range, list or */step")
        if match["step"] is not None:
            if not match["step"].isdigit() or int(match["step"]) < 1:
                raise UsageError(f"--cron {cron!r}: {field} step {match['step']!r} is not a number from 1")
            if match["low"] is not None and match["high"] is None:
                raise UsageError(f"--cron {cron!r}: {field} {item!r}: a step needs * or a range (a-b/n)")
        if match["star"]:
            continue
        first = _value(match["low"], field, low, high, names, cron)
        if match["high"] is not None and _value(match["high"], field, low, high, names, cron) < first:
            raise UsageError(f"--cron {cron!r}: {field} range {item!r} runs backwards")


def check_cron(cron: str) -> str:
    """``cron`` with its fields separated by single spaces, if it is a valid 5-field cron; raises
    :class:`UsageError` naming the field that is not."""
    fields = cron.split()
    if fields and fields[0].upper().startswith(("TZ=", "CRON_TZ=")):
        raise UsageError(f"--cron {cron!r}: pass the time zone as --time-zone {fields[0].split('=', 1)[1]}")
    if len(fields) != len(FIELDS):
        raise UsageError(f"--cron {cron!r} has {len(fields)} fields; a cron has 5: {_HELP}")
    for text, (field, low, high, names) in zip(fields, FIELDS, strict=True):
        _check_field(text, field, low, high, names, cron)
    return " ".join(fields)


def check_time_zone(name: str) -> str:
    """``name`` if the IANA time zone database (``zoneinfo``) knows it; raises :class:`UsageError`."""
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(name)
        return name
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(name, sorted(zoneinfo.available_timezones()), n=3, cutoff=0.6)
        hint = (
            f"did you mean {', '.join(close)}?" if close else "use an IANA name such as Europe/Berlin or UTC"
        )
        raise UsageError(f"--time-zone {name!r} is not a time zone; {hint}") from None


def parse_time(text: str, option: str, time_zone: str | None) -> datetime.datetime:
    """An ISO 8601 time (``2026-12-01T03:00``, ``...Z``, ``...+01:00``) as an aware UTC datetime; a time
    without an offset is read in ``time_zone`` (UTC when None)."""
    import zoneinfo

    try:
        value = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise UsageError(f"{option} {text!r} is not an ISO 8601 time, e.g. 2026-12-01T03:00:00Z") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zoneinfo.ZoneInfo(time_zone or "UTC"))
    return value.astimezone(datetime.timezone.utc)


def rfc3339(value: datetime.datetime) -> str:
    """``2026-12-01T02:00:00Z``: whole seconds, UTC."""
    return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def vertex_cron(cron: str, time_zone: str | None) -> str:
    """Vertex AI's ``Schedule.cron``: the time zone as a ``TZ=`` prefix (without one, Vertex reads UTC)."""
    return f"TZ={time_zone} {cron}" if time_zone else cron


def kfp_cron(cron: str) -> str:
    """Kubeflow Pipelines' cron: robfig/cron's 6 fields, seconds first (``0``: on the minute)."""
    return f"0 {cron}"


def split_vertex_cron(cron: str) -> tuple[str, str | None]:
    """``TZ=Europe/Berlin 0 3 * * *`` (or ``CRON_TZ=...``) as ``("0 3 * * *", "Europe/Berlin")``."""
    first, _, rest = cron.strip().partition(" ")
    if first.upper().startswith(("TZ=", "CRON_TZ=")):
        return rest.strip(), first.split("=", 1)[1]
    return cron.strip(), None


__all__ = [
    "check_cron",
    "check_time_zone",
    "kfp_cron",
    "parse_time",
    "rfc3339",
    "split_vertex_cron",
    "vertex_cron",
]
