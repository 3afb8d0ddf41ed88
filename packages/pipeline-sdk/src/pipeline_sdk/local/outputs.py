"""A finished task's outputs: read back from its ExecutorOutput, checked on disk, described for ``run.json``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline_sdk.errors import StepFailed
from pipeline_sdk.local.prepare import PreparedTask

METRICS_SCHEMAS = ("system.Metrics", "system.ClassificationMetrics")


def declared_output(task: PreparedTask, name: str) -> Any:
    """The output artifact ``name`` as the task was given it (where it is to write it), before any output
    metadata the task reports."""
    from kfp.local import executor_output_utils

    return executor_output_utils.artifact_list_to_dsl_artifact(
        task.executor_input.outputs.artifacts[name], is_artifact_list=False
    )


def collect_outputs(task: PreparedTask) -> dict[str, Any]:
    """The task's outputs: ExecutorOutput contents (e.g. metrics metadata) over the declared artifacts.

    Every declared output artifact must exist on disk; a step that "succeeds" without writing one fails.
    """
    from kfp.local import executor_output_utils

    outputs = executor_output_utils.get_outputs_for_task(task.executor_input, task.component_spec)
    for name in task.executor_input.outputs.artifacts:
        if name not in outputs:
            outputs[name] = declared_output(task, name)
        if not Path(outputs[name].uri).exists():
            raise StepFailed(
                task.name, f"exited 0 but did not write its output artifact {name!r} at {outputs[name].uri}"
            )
    return outputs


def describe(output: Any) -> dict[str, Any]:
    """An output as ``run.json`` records it: an artifact's type, uri and metadata, or a parameter's value."""
    if hasattr(output, "uri"):
        return {"type": output.schema_title, "uri": output.uri, "metadata": dict(output.metadata)}
    return {"value": output}


def metrics(outputs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The metadata of the outputs that are KFP Metrics or ClassificationMetrics (and not empty)."""
    return {
        key: dict(output.metadata)
        for key, output in outputs.items()
        if getattr(output, "schema_title", None) in METRICS_SCHEMAS and output.metadata
    }


__all__ = ["METRICS_SCHEMAS", "collect_outputs", "declared_output", "describe", "metrics"]
