"""A step's log files: where each process writes, the copy of its output into them, and the tail an error
quotes.

A step's log is ``<run>/<task>/log.txt``; a multi-replica step's replica 0 writes that one and replica i
``log-replica-i.txt`` beside it. Each log starts with the command line that ran (``$ ...``).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import IO

#: lines of a failed step's log quoted in its error
TAIL_LINES = 30

Echo = Callable[[str], None]


def replica_log(log_path: Path, replica: int) -> Path:
    """Replica 0 writes ``log_path``; replica i writes ``log-replica-i.txt`` beside it."""
    return log_path if replica == 0 else log_path.with_name(f"log-replica-{replica}.txt")


def open_log(path: Path, command: list[str], env_shown: str = "") -> IO[str]:
    """A new log at ``path`` (line-buffered), opened with the command line that is about to run."""
    log = open(path, "w", buffering=1)  # noqa: SIM115 - the caller's copy closes it
    log.write(f"$ {env_shown}{subprocess.list2cmdline(command)}\n")
    return log


def copy_output(stream: IO[str], log: IO[str], echo: Echo | None) -> None:
    """Copy a process's output into its log line by line (and to ``echo``), then close the log."""
    with log:
        for line in stream:
            log.write(line)
            if echo is not None:
                echo(line.rstrip("\n"))


def tail(path: Path, lines: int = TAIL_LINES) -> str:
    """The last ``lines`` lines of a log, indented, for an error message."""
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "  (no log)"
    return "\n".join(f"  {line}" for line in text[-lines:])


__all__ = ["TAIL_LINES", "Echo", "copy_output", "open_log", "replica_log", "tail"]
