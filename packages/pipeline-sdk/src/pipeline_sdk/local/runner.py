"""``pipeline-sdk run``: execute the compiled pipeline locally, no cloud account and no Docker.

Tasks run in dependency order (kfp.local's topological sort and argument wiring); artifacts live under
``<local.root>/<run>/<task>/<output>``, each step's log in ``<run>/<task>/log.txt``, and ``run.json`` in
the run directory records task states, artifact paths and the metrics outputs. GPU resources, retries and
caching are Vertex settings and are ignored locally.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from pipeline_sdk.compiler import CompiledPipeline, compile_pipeline
from pipeline_sdk.config import resolve_path
from pipeline_sdk.errors import LocalRunError
from pipeline_sdk.local.record import CANCELLED, FAILED, SUCCEEDED, RunRecord, TaskRecord
from pipeline_sdk.local.task import collect_outputs, prepare_task, run_task

LOG_TAIL_LINES = 30
_METRICS_SCHEMAS = ("system.Metrics", "system.ClassificationMetrics")


@dataclass(frozen=True)
class LocalRun:
    """A finished local run."""

    run_dir: Path
    record: RunRecord

    @property
    def metrics(self) -> dict[str, dict[str, Any]]:
        return self.record.metrics


def run_locally(
    cfg: DictConfig,
    run_name: str | None = None,
    progress: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
    echo_logs: bool = False,
) -> LocalRun:
    """Compile the pipeline for ``cfg`` into a new run directory and run every task locally.

    Raises :class:`~pipeline_sdk.errors.LocalRunError` (with the failing step's log tail) on failure;
    ``run.json`` is written either way.
    """
    from kfp.local import executor_input_utils

    root = resolve_path(cfg, cfg.local.root).resolve()
    name = run_name or executor_input_utils.get_local_pipeline_resource_name(cfg.pipeline.name)
    run_dir = root / name
    if run_dir.exists():
        raise LocalRunError(f"run directory {run_dir} already exists; choose another --run-name")
    try:
        run_dir.mkdir(parents=True)
    except OSError as e:
        raise LocalRunError(f"cannot create run directory {run_dir}: {e.strerror or e}") from None
    try:
        compiled = compile_pipeline(cfg, run_dir / "pipeline.yaml")
    except BaseException:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise
    for warning in compiled.warnings:
        progress(f"warning: {warning}")
    note = _ignored_settings_note(cfg)
    if note:
        progress(note)
    record = _Execution(compiled, root, run_dir, name, progress, echo_logs).run()
    return LocalRun(run_dir, record)


def _ignored_settings_note(cfg: DictConfig) -> str | None:
    steps = []
    for name, step in cfg.steps.items():
        res, parts = step.resources, []
        if res.accelerator_type and res.accelerator_count > 0:
            parts.append(f"{res.accelerator_count} x {res.accelerator_type}")
        if res.cpu is not None:
            parts.append(f"cpu {res.cpu}")
        if res.memory is not None:
            parts.append(f"memory {res.memory}")
        if parts:
            steps.append(f"{name}: {', '.join(parts)}")
    if not steps:
        return None
    return f"note: local run on this machine's CPU; ignoring the steps' Vertex resources ({'; '.join(steps)})"


class _Execution:
    """One run of a compiled spec: the parsed DAG, the artifact store, and ``run.json`` kept current."""

    def __init__(
        self,
        compiled: CompiledPipeline,
        root: Path,
        run_dir: Path,
        run_name: str,
        progress: Callable[[str], None],
        echo_logs: bool,
    ) -> None:
        from google.protobuf import json_format
        from kfp.local import graph_utils, io
        from kfp.local.orchestrator.orchestrator_utils import OrchestratorUtils
        from kfp.pipeline_spec import pipeline_spec_pb2

        self.spec = json_format.ParseDict(
            compiled.spec, pipeline_spec_pb2.PipelineSpec(), ignore_unknown_fields=True
        )
        self.executors = compiled.spec["deploymentSpec"]["executors"]
        self.order = graph_utils.topological_sort_tasks(self.spec.root.dag.tasks)
        self.root, self.run_name, self.progress = root, run_name, progress
        self.echo = (lambda line: progress(f"  | {line}")) if echo_logs else None
        self.record = RunRecord(
            run=run_name,
            pipeline=self.spec.pipeline_info.name,
            run_dir=str(run_dir),
            pipeline_spec=str(compiled.path),
            parameters=compiled.raw_parameter_values,
            images=compiled.images,
            tasks={task_name: TaskRecord() for task_name in reversed(self.order)},
        )
        self.store = io.IOStore()
        arguments = OrchestratorUtils.join_user_inputs_and_defaults(
            dag_arguments=compiled.parameter_values, dag_inputs_spec=self.spec.root.input_definitions
        )
        for key, value in arguments.items():
            self.store.put_parent_input(key, value)

    def run(self) -> RunRecord:
        """Every task in dependency order; raises (with ``run.json`` saved) at the first failure."""
        self.record.save()
        total = len(self.order)
        for step, task_name in enumerate(reversed(self.order), start=1):
            self._run_task(task_name, f"[{step}/{total}] {task_name}")
        self.record.finish(SUCCEEDED)
        self.record.save()
        return self.record

    def _prepare(self, task_name: str) -> Any:
        from kfp.local.orchestrator.orchestrator_utils import OrchestratorUtils

        task_spec = self.spec.root.dag.tasks[task_name]
        component = self.spec.components[task_spec.component_ref.name]
        return prepare_task(
            name=task_name,
            component_spec=component,
            container=_container(self.executors[component.executor_label]),
            arguments=OrchestratorUtils.make_task_arguments(task_spec.inputs, self.store),
            pipeline_root=self.root,
            run_name=self.run_name,
            run_id=self.run_name,
        )

    def _run_task(self, task_name: str, label: str) -> None:
        prepared = self._prepare(task_name)
        log_path = prepared.task_root / "log.txt"
        task_record = self.record.tasks[task_name]
        task_record.command, task_record.log = prepared.command, str(log_path)
        task_record.start()
        self.record.save()
        self.progress(f"{label}: running (log: {log_path})")
        try:
            task_record.exit_code = run_task(prepared, log_path, self.echo)
            if task_record.exit_code != 0:
                message = f"step {task_name!r} failed with exit code {task_record.exit_code}"
                raise LocalRunError(f"{message}; last lines of {log_path}:\n{_tail(log_path)}")
            outputs = collect_outputs(prepared)
        except KeyboardInterrupt:
            _finish(self.record, task_name, CANCELLED, "interrupted")
            raise
        except LocalRunError as e:
            _finish(self.record, task_name, FAILED, str(e).split("; last lines of ", 1)[0])
            raise
        self._keep_outputs(task_name, outputs)
        task_record.finish(SUCCEEDED)
        self.record.save()
        self.progress(f"{label}: succeeded in {task_record.duration_s:.1f}s")

    def _keep_outputs(self, task_name: str, outputs: dict[str, Any]) -> None:
        for key, output in outputs.items():
            self.store.put_task_output(task_name, key, output)
        self.record.tasks[task_name].outputs = {key: _describe(output) for key, output in outputs.items()}
        metrics = {
            key: dict(output.metadata)
            for key, output in outputs.items()
            if getattr(output, "schema_title", None) in _METRICS_SCHEMAS and output.metadata
        }
        if metrics:
            self.record.metrics[task_name] = metrics


def _container(executor: dict[str, Any]) -> Any:
    """The executor's container as a proto message (command, args, env)."""
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    message = pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec()
    return json_format.ParseDict(executor.get("container", {}), message, ignore_unknown_fields=True)


def _finish(record: RunRecord, task_name: str, state: str, error: str) -> None:
    task = record.tasks[task_name]
    task.error = error
    task.finish(state)
    record.finish(state)
    record.save()


def _describe(output: Any) -> dict[str, Any]:
    if hasattr(output, "uri"):
        return {
            "type": output.schema_title,
            "uri": output.uri,
            "metadata": dict(output.metadata),
        }
    return {"value": output}


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "  (no log)"
    return "\n".join(f"  {line}" for line in text[-lines:])


__all__ = ["LocalRun", "run_locally"]
