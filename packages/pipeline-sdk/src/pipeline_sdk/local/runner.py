"""``pipeline-sdk run``: execute the compiled pipeline locally, no cloud account and no Docker.

Tasks run in dependency order (kfp.local's topological sort and argument wiring); artifacts live under
``<local.root>/<run>/<task>/<output>``, each step's log in ``<run>/<task>/log.txt``, and ``run.json`` in
the run directory records task states, artifact paths and the metrics outputs. GPU resources, retries and
caching are Vertex settings and are ignored locally.

The layout, calls going one way: this module picks what runs next; a sweep's loop is :mod:`.trials`; one
task's run is :mod:`.execution`, which hands it to :mod:`.process_handler` or :mod:`.cluster_handler`; those
start and stop processes through :mod:`.processes` and write :mod:`.logs`.

After a sweep's loop, the steps that run on whatever upstream finished (``ignore_upstream_failure``, as a
sweep's selection step) still run when trials failed, the others are skipped, as on Vertex. An HTML output
of a step after the loop is copied to ``<run>/report.html``.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from pipeline_sdk.compiler import compile_pipeline
from pipeline_sdk.config import resolve_path
from pipeline_sdk.errors import LocalRunError
from pipeline_sdk.local.execution import Execution, summary
from pipeline_sdk.local.limits import check_process_count
from pipeline_sdk.local.notify import run_exit_task
from pipeline_sdk.local.record import RunRecord, State
from pipeline_sdk.local.trials import run_trials
from pipeline_sdk.sweep import SweepPlan

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
    at most ``parallel`` sweep trials at a time. Without ``echo_logs`` the console shows each step's progress
    lines (:data:`~pipeline_sdk.local.execution.PROGRESS_LINE`); with it, every line of its log.

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
    execution = Execution(compiled, root, run_dir, progress, echo_logs, parallel)
    return LocalRun(run_dir, _run(execution))


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


def _run(execution: Execution) -> RunRecord:
    """Every task in dependency order, then the notifications' exit task (:mod:`.notify`); raises (with
    ``run.json`` saved) at the first failure."""
    try:
        record = _run_steps(execution)
    except LocalRunError as e:
        run_exit_task(execution, State.FAILED, summary(e))
        raise
    run_exit_task(execution, State.SUCCEEDED, None)
    return record


def _run_steps(execution: Execution) -> RunRecord:
    record = execution.record
    record.save()
    total = len(execution.order)
    failed_trials = 0
    for step, task_name in enumerate(execution.order, start=1):
        task_spec = execution.dag.tasks[task_name]
        label = f"[{step}/{total}] {task_name}"
        if task_spec.WhichOneof("iterator"):
            failed_trials = run_trials(execution, task_name, task_spec, label)
            continue
        if (
            failed_trials
            and task_spec.trigger_policy.strategy != task_spec.trigger_policy.ALL_UPSTREAM_TASKS_COMPLETED
        ):
            error = f"step {task_name!r} not run: {failed_trials} sweep trial(s) failed"
            execution.fail(task_name, State.SKIPPED, error, run_state=State.FAILED)
            raise LocalRunError(error + "; see run.json for each trial's log")
        execution.run_task(task_spec, task_name, execution.store, label)
        if execution.sweep:
            _copy_report(record, task_name, execution.run_dir)
    record.finish(State.SUCCEEDED)
    record.save()
    return record


def _copy_report(record: RunRecord, task_name: str, run_dir: Path) -> None:
    """A sweep step's HTML output, copied to ``<run>/report.html``."""
    for output in record.tasks[task_name].outputs.values():
        if output.get("type") == "system.HTML" and Path(output["uri"]).is_file():
            shutil.copyfile(output["uri"], run_dir / REPORT_FILE)


__all__ = ["REPORT_FILE", "LocalRun", "run_locally"]
