"""``run.json``: the state of a local run, rewritten atomically after every change."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pipeline_sdk.files import write_text_atomic

PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED, SKIPPED = (
    "PENDING",
    "RUNNING",
    "SUCCEEDED",
    "FAILED",
    "CANCELLED",
    "SKIPPED",
)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class TaskRecord:
    """One task of the run: its state, resolved command line, log and outputs."""

    state: str = PENDING
    command: list[str] = field(default_factory=list)
    log: str | None = None  # replica 0's of a multi-replica step; replica i's is log-replica-i.txt beside it
    replicas: int = 1  # processes of one training cluster (a CustomJob step's replica_count)
    exit_code: int | None = None
    started: str | None = None
    finished: str | None = None
    duration_s: float | None = None
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None
    _t0: float | None = field(default=None, repr=False)

    def start(self) -> None:
        self.state, self.started, self._t0 = RUNNING, now_iso(), time.monotonic()

    def finish(self, state: str) -> None:
        self.state, self.finished = state, now_iso()
        if self._t0 is not None:
            self.duration_s = round(time.monotonic() - self._t0, 3)


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
    state: str = RUNNING
    started: str = field(default_factory=now_iso)
    finished: str | None = None
    duration_s: float | None = None
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: a sweep's trials: number, parameters, state, metrics, artifacts (and error)
    trials: list[dict[str, Any]] = field(default_factory=list)
    _t0: float = field(default_factory=time.monotonic, repr=False)

    def finish(self, state: str) -> None:
        self.state, self.finished = state, now_iso()
        self.duration_s = round(time.monotonic() - self._t0, 3)
        for task in self.tasks.values():
            if task.state == PENDING:
                task.state = SKIPPED

    def to_dict(self) -> dict[str, Any]:
        body = {k: v for k, v in asdict(self).items() if not k.startswith("_")}
        body["tasks"] = {
            name: {k: v for k, v in asdict(task).items() if not k.startswith("_")}
            for name, task in self.tasks.items()
        }
        return body

    def save(self) -> Path:
        path = Path(self.run_dir) / "run.json"
        write_text_atomic(path, json.dumps(self.to_dict(), indent=2, default=str) + "\n")
        return path


__all__ = ["CANCELLED", "FAILED", "PENDING", "RUNNING", "SKIPPED", "SUCCEEDED", "RunRecord", "TaskRecord"]
