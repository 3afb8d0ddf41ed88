"""The notifications' exit task in ``pipeline-sdk run``: once the steps have ended, whatever the outcome.

The webhook task runs like any step, given the final status the backend would give it (``state``,
``pipelineJobResourceName`` = the run's name, ``error.message``); its URL comes from this process's
environment, as the Kubernetes secret puts it in the container's. GCPC's email task runs on Vertex AI only:
a local run says so in one line and records the task as skipped. A failed notification is reported and
recorded, and leaves the run's state as the steps left it. An interrupted run notifies no one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline_sdk.errors import LocalRunError
from pipeline_sdk.local.execution import Execution, job_placeholders, summary
from pipeline_sdk.local.logs import tail
from pipeline_sdk.local.record import State
from pipeline_sdk.notifications import is_email_executor

EMAIL_NOTE = "notify: note: email (notify.emails) is sent by Vertex AI only; a local run sends none"


def final_status(execution: Execution, state: State, error: str | None) -> dict[str, Any]:
    """A ``dsl.PipelineTaskFinalStatus`` value as the services pass it to the exit task."""
    handler = execution.spec.root.dag.tasks[execution.exit_task].dependent_tasks
    return {
        "state": str(state),
        "pipelineJobResourceName": execution.record.run,
        "pipelineTaskName": handler[0] if handler else "",
        "error": {"message": error} if error else {},
    }


def run_exit_task(execution: Execution, state: State, error: str | None) -> None:
    """Run the exit task, if the pipeline has one, for a run that ended in ``state`` (with ``error``)."""
    name = execution.exit_task
    if name is None:
        return
    task_spec = execution.spec.root.dag.tasks[name]
    component = execution.spec.components[task_spec.component_ref.name]
    if is_email_executor(execution.executors[component.executor_label].get("container", {})):
        execution.progress(EMAIL_NOTE)
        execution.fail(name, State.SKIPPED, "email is sent by Vertex AI only", run_state=None)
        return
    from google.protobuf import json_format
    from kfp.local import io

    status = final_status(execution, state, error)
    arguments: dict[str, Any] = {}
    for key, spec in task_spec.inputs.parameters.items():
        if spec.WhichOneof("kind") == "task_final_status":
            arguments[key] = status
        elif spec.runtime_value.constant.string_value in job_placeholders():
            arguments[key] = execution.record.run
        elif spec.WhichOneof("kind") == "runtime_value":
            arguments[key] = json_format.MessageToDict(spec.runtime_value.constant)
    try:
        execution.run_task(task_spec, name, io.IOStore(), f"[exit] {name}", arguments)
    except LocalRunError as e:
        task = execution.record.tasks[name]
        lines = tail(Path(task.log)).splitlines() if task.log else []
        last = [line.strip() for line in lines if line.strip()][-1:]
        execution.progress(f"[exit] {name}: notification failed: {last[0] if last else summary(e)}")
        with execution.lock:
            execution.record.state = state  # the steps' outcome, not the notification's
            execution.record.save()


__all__ = ["EMAIL_NOTE", "final_status", "run_exit_task"]
