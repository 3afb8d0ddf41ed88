"""Run a task as one process, its output copied to the task's log: every step but a multi-replica one."""

from __future__ import annotations

from pathlib import Path

from pipeline_sdk.local import processes
from pipeline_sdk.local.logs import Echo, copy_output, open_log
from pipeline_sdk.local.prepare import PreparedTask


def run_process(task: PreparedTask, log_path: Path, echo: Echo | None = None) -> int:
    """Run ``task``, writing its combined stdout/stderr to ``log_path``; return the exit code.

    On Ctrl-C the process is stopped (:data:`~pipeline_sdk.local.processes.INTERRUPT`) before the interrupt
    propagates.
    """
    log = open_log(log_path, task.command)
    child = processes.start(task.name, task.command, task.task_root, task.env, log)
    try:
        assert child.stdout is not None
        copy_output(child.stdout, log, echo)
        return child.wait()
    except BaseException:
        processes.stop([child])
        raise


__all__ = ["run_process"]
