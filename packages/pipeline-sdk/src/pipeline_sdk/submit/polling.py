"""``--wait``: poll a run, print each state change, stop at a terminal state."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from pipeline_sdk.errors import BackendApiError, DeadlineExceeded, RunFailed, SubmitError
from pipeline_sdk.submit.options import SubmitOptions

#: Consecutive failed polls (timeouts, HTTP 429/5xx, dropped connections) tolerated before giving up.
MAX_POLL_FAILURES = 5


def _transient(error: SubmitError) -> bool:
    return isinstance(error, DeadlineExceeded) or (isinstance(error, BackendApiError) and error.transient)


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
    note: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> RunStatus:
    """Poll ``fetch`` every ``interval`` s, echo each new state; return a succeeded run.

    A poll that fails transiently is reported through ``note`` and retried, up to
    :data:`MAX_POLL_FAILURES` in a row. Raises :class:`RunFailed` (with the run's own error message) for
    a failed or cancelled run and :class:`DeadlineExceeded` once ``max_wait`` seconds pass without a
    terminal state.
    """
    started = clock()
    last: str | None = None
    failures = 0
    while True:
        try:
            status = fetch()
        except SubmitError as e:
            failures += 1
            if not _transient(e) or failures >= MAX_POLL_FAILURES:
                raise
            (note or echo)(f"{what}: poll failed ({e}); trying again in {interval:g} s")
            sleep(interval)
            continue
        failures = 0
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


def wait_if_asked(fetch: Callable[[], RunStatus], *, what: str, options: SubmitOptions) -> None:
    """With ``--wait``, :func:`wait_for_run` as the submit options set it up; otherwise return at once."""
    if options.wait:
        wait_for_run(
            fetch,
            what=what,
            interval=options.poll_interval,
            max_wait=options.wait_timeout,
            echo=options.echo,
            note=options.note,
        )
