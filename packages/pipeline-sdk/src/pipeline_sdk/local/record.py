"""``run.json``: the state of a local run (tasks, a sweep's trials), rewritten atomically after every change."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any

from pipeline_sdk.atomic import write_text


class State(str, Enum):
    """A task's, a trial's or the run's state, written to ``run.json`` by name."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    SKIPPED = "SKIPPED"

    def __str__(self) -> str:
        return self.value


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class TaskRecord:
    """One task of the run: its state, resolved command line, log and outputs."""

    state: State = State.PENDING
    command: list[str] = field(default_factory=list)
    log: str | None = None  # replica 0's of a multi-replica step; replica i's is log-replica-i.txt beside it
    replicas: int = 1  # processes of one training cluster (a CustomJob step's replica count)
    exit_code: int | None = None
    started: str | None = None
    finished: str | None = None
    duration_s: float | None = None
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None
    _t0: float | None = field(default=None, repr=False)

    def start(self) -> None:
        self.state, self.started, self._t0 = State.RUNNING, now_iso(), time.monotonic()

    def finish(self, state: State) -> None:
        self.state, self.finished = state, now_iso()
        if self._t0 is not None:
            self.duration_s = round(time.monotonic() - self._t0, 3)


def trial_task(step: str, trial: int | str) -> str:
    """The record's (and the task directory's) name of ``step`` in sweep trial ``trial``."""
    return f"{step}-trial-{trial}"


@dataclass
class TrialRecord:
    """One trial of a sweep: its number (from 1), its parameters, its tasks and what they produced."""

    trial: int
    parameters: dict[str, Any]
    tasks: list[str]  # the record's task names of this trial, ``<step>-trial-<N>``
    state: State = State.PENDING
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)  # task -> metrics output -> values
    artifacts: dict[str, str] = field(default_factory=dict)  # ``<task>.<output>`` -> uri
    error: str | None = None


@dataclass
class RunRecord:
    """The whole run; ``save()`` writes ``<run_dir>/run.json``."""

    run: str
    pipeline: str
    run_dir: str
    pipeline_spec: str
    parameters: dict[str, Any]
    images: dict[str, str]
    tasks: dict[str, TaskRecord]
    state: State = State.RUNNING
    started: str = field(default_factory=now_iso)
    finished: str | None = None
    duration_s: float | None = None
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    trials: list[TrialRecord] = field(default_factory=list)
    _t0: float = field(default_factory=time.monotonic, repr=False)

    def finish(self, state: State) -> None:
        self.state, self.finished = state, now_iso()
        self.duration_s = round(time.monotonic() - self._t0, 3)
        for task in self.tasks.values():
            if task.state == State.PENDING:
                task.state = State.SKIPPED

    def to_dict(self) -> dict[str, Any]:
        return _public(asdict(self))

    def save(self) -> Path:
        path = Path(self.run_dir) / "run.json"
        write_text(path, json.dumps(self.to_dict(), indent=2, default=str) + "\n")
        return path


def _public(value: Any) -> Any:
    """``value`` without the private (``_``-prefixed) fields of the records in it."""
    if isinstance(value, dict):
        return {k: _public(v) for k, v in value.items() if not (isinstance(k, str) and k.startswith("_"))}
    if isinstance(value, list):
        return [_public(v) for v in value]
    return value


__all__ = ["RunRecord", "State", "TaskRecord", "TrialRecord", "trial_task"]
