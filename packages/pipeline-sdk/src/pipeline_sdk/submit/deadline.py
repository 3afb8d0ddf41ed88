"""Bound a blocking call that has no timeout of its own."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from pipeline_sdk.submit.errors import DeadlineExceeded

T = TypeVar("T")


def call_with_deadline(fn: Callable[[], T], seconds: float, what: str) -> T:
    """Return ``fn()``, or raise :class:`DeadlineExceeded` naming ``what`` after ``seconds``.

    The call runs in a daemon thread: libraries such as kfp's generated API client open sockets with no
    timeout, so the only way to bound them from outside is to stop waiting; the CLI then exits, and the
    abandoned thread dies with the process.
    """
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as e:  # re-raised in the caller's thread
            outcome["error"] = e

    thread = threading.Thread(target=target, name=f"deadline: {what}", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise DeadlineExceeded(f"{what}: no answer within {seconds:g} s (raise --timeout to wait longer)")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
