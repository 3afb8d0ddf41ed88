"""The lifecycle of a step's processes: start each in its own session, keep a registry of those running,
stop them in order (Ctrl-C as a terminal sends it, then SIGTERM, then SIGKILL).

Every step process is started here, so that Ctrl-C in the main thread stops all of them: sweep trials run
several steps at once, each waited on by its own thread.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from pipeline_sdk.errors import StepFailed

#: Ctrl-C as a terminal sends it, then SIGTERM, then SIGKILL: (signal, seconds to wait after it)
INTERRUPT: tuple[tuple[signal.Signals, float | None], ...] = (
    (signal.SIGINT, 5.0),
    (signal.SIGTERM, 5.0),
    (signal.SIGKILL, None),
)

_STARTED: list[subprocess.Popen[str]] = []  # finished ones are pruned at each start
_STARTED_LOCK = threading.Lock()


def _die_with_parent() -> Callable[[], None] | None:
    """Linux: a pre-exec hook giving the step SIGTERM when the runner dies, even by SIGKILL.

    Without it a killed ``pipeline-sdk run`` would leave its training step running (the step has its own
    session, so that Ctrl-C reaches the runner first and the runner stops the step in order).
    """
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved before fork, called after
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1
    return lambda: prctl(pr_set_pdeathsig, signal.SIGTERM)


def start(
    step: str, command: list[str], cwd: Path, env: dict[str, str], log: IO[str]
) -> subprocess.Popen[str]:
    """Start ``command`` in its own session (its process group is what gets stopped), output piped.

    Raises :class:`StepFailed` when it cannot start (no such console script, command line too long), after
    writing why to ``log`` and closing it; on success the caller copies the output into ``log``.
    """
    try:
        child = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
            preexec_fn=_die_with_parent(),
        )
    except OSError as e:
        with log:
            log.write(f"cannot start: {e}\n")
        raise _cannot_start(step, command, e) from None
    with _STARTED_LOCK:
        _STARTED[:] = [c for c in _STARTED if c.poll() is None] + [child]
    return child


def _cannot_start(step: str, command: list[str], error: OSError) -> StepFailed:
    if error.errno == errno.E2BIG:
        size = sum(len(part.encode(errors="replace")) + 1 for part in command)
        return StepFailed(
            step,
            f"cannot start: its command line ({len(command)} arguments, {size} bytes) is longer than this "
            "system allows (E2BIG); shorten the parameter values",
        )
    return StepFailed(
        step,
        f"cannot run {command[0]!r} ({error.strerror}); "
        "is the package that provides this console script installed in this environment?",
    )


def stop(
    children: Sequence[subprocess.Popen[str]],
    steps: Sequence[tuple[signal.Signals, float | None]] = INTERRUPT,
) -> None:
    """Stop the children's process groups together: each signal of ``steps`` to those still running, then
    wait up to its grace period (``None``: until they are gone) before the next."""
    for sig, grace in steps:
        alive = [child for child in children if child.poll() is None]
        if not alive:
            return
        for child in alive:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, sig)
        deadline = None if grace is None else time.monotonic() + grace
        for child in alive:
            try:
                child.wait(timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                continue


def stop_all() -> None:
    """Stop every step process of this runner still running."""
    with _STARTED_LOCK:
        running = [child for child in _STARTED if child.poll() is None]
    stop(running)


__all__ = ["INTERRUPT", "start", "stop", "stop_all"]
