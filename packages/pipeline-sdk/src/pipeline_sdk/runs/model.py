"""What ``pipeline-sdk runs`` shows of a run, the same for both backends, and how it is printed."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from pipeline_sdk.submit.polling import RunStatus

#: the run states of each backend, as it spells them (``--state`` takes these)
VERTEX_STATES = ("QUEUED", "PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLING", "CANCELLED", "PAUSED")
KFP_STATES = ("PENDING", "RUNNING", "SUCCEEDED", "SKIPPED", "FAILED", "CANCELING", "CANCELED", "PAUSED")
#: KFP reports a time that was never set as the Unix epoch
_UNSET_TIMES = ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000Z")


def timestamp(value: object) -> str | None:
    """An RFC 3339 time as ``2026-11-26T05:00:00Z`` (whole seconds, UTC as sent); None when unset."""
    if not value or str(value) in _UNSET_TIMES:
        return None
    text = str(value)
    if "." in text and text.endswith("Z"):
        text = text.split(".", 1)[0] + "Z"
    return text


@dataclass(frozen=True)
class TaskInfo:
    """One task of a run as the backend reports it."""

    name: str
    state: str
    started: str | None = None
    ended: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class RunInfo:
    """One run: ``id`` is what ``runs show|cancel`` take, ``resource`` the backend's full name for it."""

    id: str
    resource: str
    name: str
    state: str
    created: str | None
    started: str | None
    ended: str | None
    link: str
    parameters: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    tasks: tuple[TaskInfo, ...] = ()

    def to_dict(self, *, details: bool) -> dict[str, Any]:
        data = asdict(self)
        data["tasks"] = [asdict(task) for task in self.tasks]
        if not details:
            for key in ("parameters", "error", "tasks"):
                data.pop(key)
        return data


class RunsBackend(Protocol):
    """What ``pipeline-sdk runs`` asks of a backend (:mod:`.vertex`, :mod:`.kfp`)."""

    #: what a run is called there, for messages: "pipeline job" (Vertex AI), "run" (KFP)
    noun: str
    #: the states ``--state`` accepts, as the backend spells them
    states: tuple[str, ...]

    def list(self, *, limit: int, state: str | None) -> list[RunInfo]: ...

    def show(self, run: str) -> RunInfo: ...

    def status(self, run: str) -> RunStatus: ...

    def cancel(self, run: str) -> RunInfo: ...


def pick_state(value: str, states: Sequence[str]) -> str | None:
    """``value`` (any case, ``PIPELINE_STATE_`` prefix or not, CANCELED or CANCELLED) as one of ``states``;
    None when it is none of them."""
    wanted = value.strip().upper().removeprefix("PIPELINE_STATE_")
    spellings = {wanted, wanted.replace("CANCELL", "CANCEL"), wanted.replace("CANCEL", "CANCELL")}
    return next((state for state in states if state in spellings), None)


def _cell(value: str | None) -> str:
    return value or "-"


def table(runs: Sequence[RunInfo], *, pipeline: str) -> str:
    """The runs as an aligned table; a NAME column only where a run's name says more than its ID."""
    with_names = any(run.name not in (run.id, pipeline) for run in runs)
    header = ["RUN", *(["NAME"] if with_names else []), "STATE", "CREATED", "STARTED", "ENDED", "LINK"]
    rows = [
        [
            run.id,
            *([run.name] if with_names else []),
            run.state,
            _cell(run.created),
            _cell(run.started),
            _cell(run.ended),
            run.link,
        ]
        for run in runs
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = [
        "  ".join(
            [*(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)), row[-1]]
        ).rstrip()
        for row in [header, *rows]
    ]
    return "\n".join(lines)


def _parameter(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():  # Vertex AI sends every number as a double
        return str(int(value))
    return value if isinstance(value, str) else json.dumps(value)


def details(run: RunInfo) -> str:
    """``runs show``: the run's fields, one per line, then its parameters and tasks."""
    lines = [
        f"run         {run.id}",
        f"name        {run.resource}" if run.resource != run.id else "",
        f"state       {run.state}",
        f"created     {_cell(run.created)}",
        f"started     {_cell(run.started)}",
        f"ended       {_cell(run.ended)}",
        f"link        {run.link}",
        f"error       {run.error}" if run.error else "",
    ]
    lines = [line for line in lines if line]
    if run.parameters:
        lines.append("parameters")
        width = max(map(len, run.parameters))
        lines += [
            f"  {key.ljust(width)}  {_parameter(value)}" for key, value in sorted(run.parameters.items())
        ]
    if run.tasks:
        lines.append("tasks")
        width = max(len(task.name) for task in run.tasks)
        state_width = max(len(task.state) for task in run.tasks)
        for task in run.tasks:
            line = f"  {task.name.ljust(width)}  {task.state.ljust(state_width)}  {_cell(task.started)}  {_cell(task.ended)}"
            lines.append(line + (f"  {task.error}" if task.error else ""))
    return "\n".join(lines)


def as_json(value: RunInfo | Sequence[RunInfo]) -> str:
    """``--json``: one run with its details, or a list of runs without them."""
    if isinstance(value, RunInfo):
        return json.dumps(value.to_dict(details=True), indent=2)
    return json.dumps([run.to_dict(details=False) for run in value], indent=2)


def text_of(mapping: Mapping[str, Any] | None, key: str) -> str | None:
    """``mapping[key]`` as text, None when absent or empty."""
    value = (mapping or {}).get(key)
    return str(value) if value not in (None, "") else None
