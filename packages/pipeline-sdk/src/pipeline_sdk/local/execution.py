"""One run of a compiled pipeline spec: its parsed DAG, the artifact store, ``run.json`` kept current, and
the running of one task — prepared (:mod:`.prepare`), handed to the process or the cluster handler (the
runner's dispatch, as kfp.local's task dispatcher picks a handler), its outputs collected (:mod:`.outputs`).
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline_sdk.compiler import CompiledPipeline
from pipeline_sdk.errors import LocalRunError, StepFailed
from pipeline_sdk.local import outputs as task_outputs
from pipeline_sdk.local.cluster_handler import run_cluster
from pipeline_sdk.local.expressions import ExpressionError, select
from pipeline_sdk.local.logs import Echo, tail
from pipeline_sdk.local.prepare import PreparedTask, prepare_task
from pipeline_sdk.local.process_handler import run_process
from pipeline_sdk.local.record import RunRecord, State, TaskRecord, trial_task

#: a step's output lines shown on the console without ``--show-logs``: its progress, as the trainer reports
#: it (``epoch 2/5 batch 200/390 ...``, ``epoch 2/5 done in ...``), and a program's word on what it did not
#: do (``register-model: skipped: ...``, ``PROG: note: ...``); a step of the user's own shows the same
PROGRESS_LINE = re.compile(r"\bepoch \d+/\d+\b|^[a-z][a-z0-9_-]*: (?:skipped|note): ")


class Execution:
    """The state one local run shares between its tasks (and a sweep's trial threads)."""

    def __init__(
        self,
        compiled: CompiledPipeline,
        root: Path,
        run_dir: Path,
        progress: Callable[[str], None],
        echo_logs: bool,
        parallel: int,
    ) -> None:
        from google.protobuf import json_format
        from kfp.local import graph_utils, io
        from kfp.local.orchestrator.orchestrator_utils import OrchestratorUtils
        from kfp.pipeline_spec import pipeline_spec_pb2

        self.spec = json_format.ParseDict(
            compiled.spec, pipeline_spec_pb2.PipelineSpec(), ignore_unknown_fields=True
        )
        self.executors = compiled.spec["deploymentSpec"]["executors"]
        # with notifications the steps are one exit handler's DAG, run here as the run's own DAG; the exit
        # task runs after it (:mod:`.notify`)
        self.exit_task, handler = _exit_handler(self.spec.root.dag)
        self.dag = self.spec.components[handler.component_ref.name].dag if handler else self.spec.root.dag
        self.order = list(reversed(graph_utils.topological_sort_tasks(self.dag.tasks)))
        self.root, self.run_dir, self.progress = root, run_dir, progress
        self.echo_logs, self.parallel, self.sweep = echo_logs, max(1, parallel), compiled.sweep
        self.lock = threading.Lock()  # the record, shared by the trials' threads
        self.cancelled = False
        self.prepared: dict[str, PreparedTask] = {}
        self.record = RunRecord(
            run=run_dir.name,
            pipeline=self.spec.pipeline_info.name,
            run_dir=str(run_dir),
            pipeline_spec=str(compiled.path),
            parameters=compiled.raw_parameter_values,
            images=compiled.images,
            tasks={name: TaskRecord() for name in self._task_names()},
        )
        self.store = io.IOStore()
        arguments = OrchestratorUtils.join_user_inputs_and_defaults(
            dag_arguments=compiled.parameter_values, dag_inputs_spec=self.spec.root.input_definitions
        )
        for key, value in arguments.items():
            self.store.put_parent_input(key, value)
        if handler:  # the handler's DAG reads the run's parameters under its own input names
            arguments = OrchestratorUtils.make_task_arguments(handler.inputs, self.store)
            self.store = io.IOStore()
            for key, value in arguments.items():
                self.store.put_parent_input(key, value)

    def _task_names(self) -> list[str]:
        """The record's task names: a loop's inner tasks once per trial (:func:`.record.trial_task`)."""
        names: list[str] = []
        for task_name in self.order:
            task_spec = self.dag.tasks[task_name]
            if not task_spec.WhichOneof("iterator"):
                names.append(task_name)
                continue
            count = len(json.loads(task_spec.parameter_iterator.items.raw))
            inner = self.inner_order(task_spec)
            names += [trial_task(step, n) for n in range(1, count + 1) for step in inner]
        return names + ([self.exit_task] if self.exit_task else [])

    def inner_order(self, task_spec: Any) -> list[str]:
        """The tasks of a loop's body, in dependency order."""
        from kfp.local import graph_utils

        dag = self.spec.components[task_spec.component_ref.name].dag
        return list(reversed(graph_utils.topological_sort_tasks(dag.tasks)))

    def run_task(
        self,
        task_spec: Any,
        task_name: str,
        store: Any,
        label: str | None,
        arguments: dict[str, Any] | None = None,
    ) -> None:
        """Run one task; its outputs go to ``store`` under the spec's task name. ``label``: the progress
        line's prefix, or None for a sweep trial's task (trials report once, when they finish).
        ``arguments``: the task's input values, when not wired from ``store`` (the exit task's)."""
        try:
            prepared = self.prepared[task_name] = self._prepare(task_spec, task_name, store, arguments)
        except LocalRunError as e:  # what the service would refuse before starting the task
            self.fail(task_name, State.FAILED, summary(e), run_state=label and State.FAILED)
            raise
        if label is None and self.parallel > 1 and "OMP_NUM_THREADS" not in prepared.env:
            # trials running side by side share the cores instead of each starting one thread per core
            prepared.env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // self.parallel))
        log_path = prepared.task_root / "log.txt"
        task_record = self.record.tasks[task_name]
        with self.lock:
            task_record.command, task_record.log = prepared.command, str(log_path)
            task_record.replicas = prepared.replicas
            task_record.start()
            self.record.save()
        if label:
            self.progress(f"{label}: running (log: {log_path})")
        try:
            outputs = self._execute(prepared, log_path, self._echo(task_name, label))
        except KeyboardInterrupt:
            self.fail(task_name, State.CANCELLED, "interrupted", run_state=State.CANCELLED)
            raise
        except LocalRunError as e:
            state = State.CANCELLED if self.cancelled else State.FAILED
            self.fail(task_name, state, summary(e), run_state=label and state)
            raise
        for key, output in outputs.items():
            store.put_task_output(task_spec.task_info.name, key, output)
        with self.lock:
            task_record.outputs = {key: task_outputs.describe(output) for key, output in outputs.items()}
            if found := task_outputs.metrics(outputs):
                self.record.metrics[task_name] = found
            task_record.finish(State.SUCCEEDED)
            self.record.save()
        if label:
            self.progress(f"{label}: succeeded in {task_record.duration_s:.1f}s")

    def _execute(self, prepared: PreparedTask, log_path: Path, echo: Echo | None) -> dict[str, Any]:
        """Hand the task to its handler (one process, or one per replica); its outputs when it exits 0."""
        prepared.task_root.mkdir(parents=True, exist_ok=True)
        handler = run_cluster if prepared.replicas > 1 else run_process
        exit_code = self.record.tasks[prepared.name].exit_code = handler(prepared, log_path, echo)
        if exit_code != 0:
            raise StepFailed(prepared.name, f"failed with exit code {exit_code}", log_path, tail(log_path))
        return task_outputs.collect_outputs(prepared)

    def _echo(self, task_name: str, label: str | None) -> Echo | None:
        """The console's copy of a step's output: every line with ``--show-logs``, else its progress lines;
        a trial's lines only with ``--show-logs`` (trials interleave: each line is named)."""
        if self.echo_logs:
            prefix = "  | " if label else f"  {task_name} | "
            return lambda line: self.progress(f"{prefix}{line}")
        if label is None:
            return None
        return lambda line: self.progress(f"  | {line}") if PROGRESS_LINE.search(line) else None

    def _prepare(
        self, task_spec: Any, task_name: str, store: Any, arguments: dict[str, Any] | None = None
    ) -> PreparedTask:
        component = self.spec.components[task_spec.component_ref.name]
        return prepare_task(
            name=task_name,
            component_spec=component,
            container=_container(self.executors[component.executor_label]),
            arguments=(
                _task_arguments(task_name, task_spec.inputs, store, self.record.run)
                if arguments is None
                else arguments
            ),
            pipeline_root=self.root,
            run_name=self.record.run,
        )

    def fail(self, task_name: str, state: State, error: str, run_state: State | None) -> None:
        """Record the task ended in ``state`` with ``error`` (and the run in ``run_state``, if given)."""
        with self.lock:
            task = self.record.tasks[task_name]
            task.error = error
            task.finish(state)
            if run_state:
                self.record.finish(run_state)
            self.record.save()


def _exit_handler(dag: Any) -> tuple[str | None, Any]:
    """The root DAG's exit task's name and the exit handler task it follows; (None, None) without one."""
    for name, task_spec in dag.tasks.items():
        for spec in task_spec.inputs.parameters.values():
            if spec.WhichOneof("kind") == "task_final_status":
                return name, dag.tasks[spec.task_final_status.producer_task]
    return None, None


def _task_arguments(task_name: str, inputs: Any, store: Any, run_name: str) -> dict[str, Any]:
    """The task's input values (kfp.local's wiring), with parameter expressions evaluated as the service
    evaluates them (:mod:`pipeline_sdk.local.expressions`) rather than by kfp.local's lenient rule, and the
    pipeline job's placeholders (:func:`job_placeholders`) resolved to the local run's name."""
    from kfp.local.orchestrator.orchestrator_utils import OrchestratorUtils

    plain = type(inputs)()
    plain.CopyFrom(inputs)
    selected: dict[str, Any] = {}
    for name, spec in inputs.parameters.items():
        if spec.parameter_expression_selector:
            value = store.get_parent_input(spec.component_input_parameter)
            try:
                selected[name] = select(value, spec.parameter_expression_selector)
            except ExpressionError as e:
                raise StepFailed(task_name, f"cannot start: input {name!r}: {e}") from None
            del plain.parameters[name]
        elif spec.runtime_value.constant.string_value in job_placeholders():
            selected[name] = run_name
            del plain.parameters[name]
    return {**OrchestratorUtils.make_task_arguments(plain, store), **selected}


def job_placeholders() -> tuple[str, ...]:
    """The pipeline job's name and ID placeholders, which the services resolve in a task's constant input
    (docs/vertex-behaviour.md X3, N6); a local run resolves both to its run name."""
    from kfp import dsl

    return (dsl.PIPELINE_JOB_NAME_PLACEHOLDER, dsl.PIPELINE_JOB_ID_PLACEHOLDER)


def _container(executor: dict[str, Any]) -> Any:
    """The executor's container as a proto message (command, args, env)."""
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    message = pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec()
    return json_format.ParseDict(executor.get("container", {}), message, ignore_unknown_fields=True)


def summary(error: BaseException) -> str:
    """A step's error as one line, without the log tail its message quotes."""
    return error.summary if isinstance(error, StepFailed) else str(error)


__all__ = ["PROGRESS_LINE", "Execution", "summary"]
