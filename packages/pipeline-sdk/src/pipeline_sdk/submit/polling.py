"""``--wait``: poll a run, print each state change, stop at a terminal state."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from pipeline_sdk.submit.errors import DeadlineExceeded, RunFailed


@dataclass(frozen=True)
class RunStatus:
    """A backend-neutral view of a run: its state name and, once finished, how it ended."""

    state: str
    terminal: bool
    succeeded: bool = False
    error: str | None = None


def wait_for_run(
    fetch: Callable[[], RunStatus],
    *,
    what: str,
    interval: float,
    max_wait: float | None,
    echo: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> RunStatus:
    """Poll ``fetch`` every ``interval`` s, echo each new state; return a succeeded run.

    Raises :class:`RunFailed` (with the run's own error message) for a failed or cancelled run and
    :class:`DeadlineExceeded` once ``max_wait`` seconds pass without a terminal state.
    """
    started = clock()
    last: str | None = None
    while True:
        status = fetch()
        if status.state != last:
            echo(f"{what}: {status.state}")
            last = status.state
        if status.terminal:
            if not status.succeeded:
                reason = f": {status.error}" if status.error else ""
                raise RunFailed(f"{what} ended {status.state}{reason}")
            return status
        if max_wait is not None and clock() - started + interval > max_wait:
            raise DeadlineExceeded(
                f"{what} is still {status.state} after {max_wait:g} s (--wait-timeout); it keeps running"
            )
        sleep(interval)
