"""``pipeline-sdk run``: execute the compiled pipeline locally, no cloud account and no Docker.

Tasks run in dependency order (kfp.local's topological sort and argument wiring); artifacts live under
``<local.root>/<run>/<task>/<output>``, each step's log in ``<run>/<task>/log.txt``, and ``run.json`` in
the run directory records task states, artifact paths and the metrics outputs. GPU resources, retries and
caching are Vertex settings and are ignored locally.

A sweep's ParallelFor runs its trials ``parallel`` at a time, each trial's steps as tasks named
``<step>-trial-<N>``. A failed trial does not stop the others; the steps after the loop that run on
whatever upstream finished (``ignore_upstream_failure``, as a sweep's selection step) still run, the others
are skipped, as on Vertex. An HTML output of a step after the loop is copied to ``<run>/report.html``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from pipeline_sdk.compiler import CompiledPipeline, compile_pipeline
from pipeline_sdk.config import resolve_path
from pipeline_sdk.errors import LocalRunError
from pipeline_sdk.local.expressions import ExpressionError, select
from pipeline_sdk.local.limits import check_process_count
from pipeline_sdk.local.record import (
    CANCELLED,
    FAILED,
    PENDING,
    RUNNING,
    SKIPPED,
    SUCCEEDED,
    RunRecord,
    TaskRecord,
)
from pipeline_sdk.local.task import (
    collect_outputs,
    declared_output,
    log_tail,
    prepare_task,
    run_task,
    stop_running_tasks,
)
from pipeline_sdk.sweep import SweepPlan

_METRICS_SCHEMAS = ("system.Metrics", "system.ClassificationMetrics")
REPORT_FILE = "report.html"


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
    sweep: SweepPlan | None = None,
    parallel: int = 1,
) -> LocalRun:
    """Compile the pipeline for ``cfg`` (and ``sweep``) into a new run directory and run every task locally,
    at most ``parallel`` sweep trials at a time.

    Raises :class:`~pipeline_sdk.errors.LocalRunError` (with the failing step's log tail) on failure;
    ``run.json`` is written either way.
    """
    from kfp.local import executor_input_utils

    check_process_count(cfg, parallel, len(sweep.trials) if sweep else None)
    root = resolve_path(cfg, cfg.local.root).resolve()
    name = run_name or executor_input_utils.get_local_pipeline_resource_name(cfg.pipeline.name)
    if Path(name).name != name or name in (".", "..") or "\x00" in name:
        raise LocalRunError(
            f"--run-name {name!r} is not a directory name under local.root (no '/', '.', '..')"
        )
    run_dir = root / name
    if run_dir.exists():
        raise LocalRunError(f"run directory {run_dir} already exists; choose another --run-name")
    try:
        run_dir.mkdir(parents=True)
    except OSError as e:
        raise LocalRunError(f"cannot create run directory {run_dir}: {e.strerror or e}") from None
    try:
        compiled = compile_pipeline(cfg, run_dir / "pipeline.yaml", sweep)
    except BaseException:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise
    for warning in compiled.warnings:
        progress(f"warning: {warning}")
    note = _ignored_settings_note(cfg)
    if note:
        progress(note)
    record = _Execution(compiled, root, run_dir, name, progress, echo_logs, parallel).run()
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
    replicas = [
        f"{name}: {s.resources.replica_count}"
        for name, s in cfg.steps.items()
        if s.resources.replica_count > 1
    ]
    if not steps:
        return None
    note = f"note: local run on this machine's CPU; ignoring the steps' Vertex resources ({'; '.join(steps)})"
    return note + (f"; replicas run as local processes ({'; '.join(replicas)})" if replicas else "")


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
        parallel: int = 1,
    ) -> None:
        from google.protobuf import json_format
        from kfp.local import graph_utils, io
        from kfp.local.orchestrator.orchestrator_utils import OrchestratorUtils
        from kfp.pipeline_spec import pipeline_spec_pb2

        self.spec = json_format.ParseDict(
            compiled.spec, pipeline_spec_pb2.PipelineSpec(), ignore_unknown_fields=True
        )
        self.executors = compiled.spec["deploymentSpec"]["executors"]
        self.order = list(reversed(graph_utils.topological_sort_tasks(self.spec.root.dag.tasks)))
        self.root, self.run_dir, self.run_name, self.progress = root, run_dir, run_name, progress
        self.echo_logs, self.parallel, self.sweep = echo_logs, max(1, parallel), compiled.sweep
        self.lock = threading.Lock()  # the record, shared by the trials' threads
        self.cancelled = False
        self.prepared: dict[str, Any] = {}
        self.record = RunRecord(
            run=run_name,
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

    def _task_names(self) -> list[str]:
        """The record's task names: a loop's inner tasks once per trial (``<task>-trial-<N>``)."""
        names: list[str] = []
        for task_name in self.order:
            task_spec = self.spec.root.dag.tasks[task_name]
            if not task_spec.WhichOneof("iterator"):
                names.append(task_name)
                continue
            inner = self._inner_order(task_spec)
            items = json.loads(task_spec.parameter_iterator.items.raw)
            names += [f"{inner_name}-trial-{n}" for n in range(1, len(items) + 1) for inner_name in inner]
        return names

    def _inner_order(self, task_spec: Any) -> list[str]:
        from kfp.local import graph_utils

        dag = self.spec.components[task_spec.component_ref.name].dag
        return list(reversed(graph_utils.topological_sort_tasks(dag.tasks)))

    def run(self) -> RunRecord:
        """Every task in dependency order; raises (with ``run.json`` saved) at the first failure."""
        self.record.save()
        total = len(self.order)
        failed_trials = 0
        for step, task_name in enumerate(self.order, start=1):
            task_spec = self.spec.root.dag.tasks[task_name]
            label = f"[{step}/{total}] {task_name}"
            if task_spec.WhichOneof("iterator"):
                failed_trials = self._run_loop(task_name, task_spec, label)
                continue
            if (
                failed_trials
                and task_spec.trigger_policy.strategy != task_spec.trigger_policy.ALL_UPSTREAM_TASKS_COMPLETED
            ):
                error = f"step {task_name!r} not run: {failed_trials} sweep trial(s) failed"
                self._fail(task_name, SKIPPED, error, run_state=FAILED)
                raise LocalRunError(error + "; see run.json for each trial's log")
            self._run_task(task_spec, task_name, self.store, label)
        self.record.finish(SUCCEEDED)
        self.record.save()
        return self.record

    def _prepare(self, task_spec: Any, task_name: str, store: Any) -> Any:
        component = self.spec.components[task_spec.component_ref.name]
        return prepare_task(
            name=task_name,
            component_spec=component,
            container=_container(self.executors[component.executor_label]),
            arguments=_task_arguments(task_name, task_spec.inputs, store),
            pipeline_root=self.root,
            run_name=self.run_name,
            run_id=self.run_name,
        )

    def _run_task(self, task_spec: Any, task_name: str, store: Any, label: str | None) -> Any:
        """Run one task; its outputs go to ``store`` under the spec's task name. ``label``: the progress
        line's prefix, or None for no progress lines (sweep trials report once, when they finish)."""
        try:
            prepared = self.prepared[task_name] = self._prepare(task_spec, task_name, store)
        except LocalRunError as e:  # what the service would refuse before starting the task
            self._fail(task_name, FAILED, str(e), run_state=label and FAILED)
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
        prefix = "  | " if label else f"  {task_name} | "  # trials' lines interleave: name them
        echo = (lambda line: self.progress(f"{prefix}{line}")) if self.echo_logs else None
        try:
            task_record.exit_code = run_task(prepared, log_path, echo)
            if task_record.exit_code != 0:
                message = f"step {task_name!r} failed with exit code {task_record.exit_code}"
                raise LocalRunError(f"{message}; last lines of {log_path}:\n{log_tail(log_path)}")
            outputs = collect_outputs(prepared)
        except KeyboardInterrupt:
            self._fail(task_name, CANCELLED, "interrupted", run_state=CANCELLED)
            raise
        except LocalRunError as e:
            state = CANCELLED if self.cancelled else FAILED
            self._fail(task_name, state, _summary(e), run_state=label and state)
            raise
        for key, output in outputs.items():
            store.put_task_output(task_spec.task_info.name, key, output)
        with self.lock:
            self._keep_outputs(task_name, outputs)
            task_record.finish(SUCCEEDED)
            self.record.save()
        if label:
            self.progress(f"{label}: succeeded in {task_record.duration_s:.1f}s")
        return prepared

    def _fail(self, task_name: str, state: str, error: str, run_state: str | None) -> None:
        with self.lock:
            task = self.record.tasks[task_name]
            task.error = error
            task.finish(state)
            if run_state:
                self.record.finish(run_state)
            self.record.save()

    def _run_loop(self, loop_name: str, task_spec: Any, label: str) -> int:
        """Run a ParallelFor's trials, ``parallel`` at a time; put the collected outputs in the store and
        return how many trials failed."""
        from kfp.local.orchestrator.orchestrator_utils import OrchestratorUtils

        items = json.loads(task_spec.parameter_iterator.items.raw)
        inner = self._inner_order(task_spec)
        loop_inputs = OrchestratorUtils.make_task_arguments(task_spec.inputs, self.store)
        self.progress(
            f"{label}: {len(items)} trials, {min(self.parallel, len(items))} at a time "
            f"(logs: {self.run_dir}/{inner[-1]}-trial-N/log.txt)"
        )
        trials: list[dict[str, Any]] = [
            {
                "trial": number,
                "parameters": self.sweep.trials[number - 1] if self.sweep else item,
                "state": PENDING,
                "tasks": [f"{name}-trial-{number}" for name in inner],
            }
            for number, item in enumerate(items, start=1)
        ]
        self.record.trials = trials
        stores: dict[int, Any] = {}
        failed = 0
        with ThreadPoolExecutor(max_workers=self.parallel, thread_name_prefix="trial") as pool:
            futures = {
                pool.submit(self._run_trial, task_spec, inner, number, item, loop_inputs, stores): number
                for number, item in enumerate(items, start=1)
            }
            try:
                for finished, future in enumerate(as_completed(futures), start=1):
                    number = futures[future]
                    error = future.exception()
                    if isinstance(error, (KeyboardInterrupt, SystemExit)):
                        raise error
                    failed += error is not None
                    self._report_trial(trials[number - 1], finished, len(items), error)
            except BaseException:
                self.cancelled = True
                for future in futures:
                    future.cancel()
                stop_running_tasks()
                with self.lock:
                    for trial in trials:
                        if trial["state"] in (PENDING, RUNNING):
                            trial["state"] = CANCELLED
                    self.record.finish(CANCELLED)
                    self.record.save()
                raise
        self._collect(loop_name, task_spec, inner, stores, len(items))
        if failed == len(items):
            self.progress(f"{label}: every trial failed")
        elif failed:
            self.progress(f"{label}: {failed} of {len(items)} trials failed; the others go on")
        return failed

    def _run_trial(
        self,
        task_spec: Any,
        inner: list[str],
        number: int,
        item: Any,
        loop_inputs: dict[str, Any],
        stores: dict[int, Any],
    ) -> None:
        from kfp.local import io

        store = stores[number] = io.IOStore()
        for key, value in loop_inputs.items():
            store.put_parent_input(key, value)
        store.put_parent_input(task_spec.parameter_iterator.item_input, item)
        dag = self.spec.components[task_spec.component_ref.name].dag
        with self.lock:
            self.record.trials[number - 1]["state"] = RUNNING
        for name in inner:
            self._run_task(dag.tasks[name], f"{name}-trial-{number}", store, None)

    def _report_trial(
        self, trial: dict[str, Any], finished: int, total: int, error: BaseException | None
    ) -> None:
        """One progress line for a finished trial, and its entry in ``run.json``."""
        tasks = [self.record.tasks[name] for name in trial["tasks"]]
        seconds = sum(task.duration_s or 0.0 for task in tasks)
        metrics = {name: self.record.metrics[name] for name in trial["tasks"] if name in self.record.metrics}
        shown = ", ".join(f"{key}={value!r}" for key, value in trial["parameters"].items())
        with self.lock:
            trial["state"] = FAILED if error is not None else SUCCEEDED
            trial["metrics"] = metrics
            trial["artifacts"] = {
                f"{name}.{key}": output["uri"]
                for name, task in zip(trial["tasks"], tasks, strict=False)
                for key, output in task.outputs.items()
                if "uri" in output
            }
            if error is not None:
                trial["error"] = _summary(error)
            self.record.save()
        if error is not None:
            outcome = f"FAILED ({trial['error']})"
        else:
            val = next(
                (m["val_accuracy"] for out in metrics.values() for m in out.values() if "val_accuracy" in m),
                None,
            )
            outcome = f"succeeded in {seconds:.1f}s" + (
                f", val_accuracy {val:.4f}" if val is not None else ""
            )
        self.progress(f"  trial {trial['trial']} [{finished}/{total} done] {shown}: {outcome}")

    def _collect(
        self, loop_name: str, task_spec: Any, inner: list[str], stores: dict[int, Any], count: int
    ) -> None:
        """The loop's outputs: each one the list of every trial's artifact, in trial order. A failed trial
        contributes the artifact it was given (its files may be missing), so that the steps after the loop
        can report it."""
        dag = self.spec.components[task_spec.component_ref.name].dag
        for key, selectors in dag.outputs.artifacts.items():
            selector = selectors.artifact_selectors[0]
            collected = []
            for number in range(1, count + 1):
                store = stores.get(number)
                try:
                    collected.append(
                        store.get_task_output(selector.producer_subtask, selector.output_artifact_key)
                    )
                    continue
                except (AttributeError, ValueError, KeyError):  # no store: never started; no output: failed
                    pass
                prepared = self.prepared.get(f"{selector.producer_subtask}-trial-{number}")
                if prepared is not None:
                    collected.append(declared_output(prepared, selector.output_artifact_key))
            self.store.put_task_output(loop_name, key, collected)

    def _keep_outputs(self, task_name: str, outputs: dict[str, Any]) -> None:
        self.record.tasks[task_name].outputs = {key: _describe(output) for key, output in outputs.items()}
        metrics = {
            key: dict(output.metadata)
            for key, output in outputs.items()
            if getattr(output, "schema_title", None) in _METRICS_SCHEMAS and output.metadata
        }
        if metrics:
            self.record.metrics[task_name] = metrics
        for output in outputs.values():
            if (
                getattr(output, "schema_title", None) == "system.HTML"
                and self.sweep
                and Path(output.uri).is_file()
            ):
                shutil.copyfile(output.uri, self.run_dir / REPORT_FILE)


def _task_arguments(task_name: str, inputs: Any, store: Any) -> dict[str, Any]:
    """The task's input values (kfp.local's wiring), with parameter expressions evaluated as the service
    evaluates them (:mod:`pipeline_sdk.local.expressions`) rather than by kfp.local's lenient rule."""
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
                raise LocalRunError(f"step {task_name!r} cannot start: input {name!r}: {e}") from None
            del plain.parameters[name]
    return {**OrchestratorUtils.make_task_arguments(plain, store), **selected}


def _container(executor: dict[str, Any]) -> Any:
    """The executor's container as a proto message (command, args, env)."""
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    message = pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec()
    return json_format.ParseDict(executor.get("container", {}), message, ignore_unknown_fields=True)


def _summary(error: BaseException) -> str:
    """A step's error without the log tail its message carries."""
    return str(error).split("; last lines of ", 1)[0]


def _describe(output: Any) -> dict[str, Any]:
    if hasattr(output, "uri"):
        return {
            "type": output.schema_title,
            "uri": output.uri,
            "metadata": dict(output.metadata),
        }
    return {"value": output}


__all__ = ["LocalRun", "run_locally"]
