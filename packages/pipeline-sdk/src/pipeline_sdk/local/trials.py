"""A sweep's ParallelFor: its trials run ``parallel`` at a time, each one's steps as tasks named
``<step>-trial-<N>`` (:func:`.record.trial_task`), and one progress line per finished trial.

A failed trial does not stop the others. The loop's outputs are each one the list of every trial's artifact,
in trial order, as ``dsl.Collected`` gives them to the steps after the loop.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from pipeline_sdk.local import processes
from pipeline_sdk.local.execution import Execution, summary
from pipeline_sdk.local.outputs import declared_output
from pipeline_sdk.local.record import State, TrialRecord, trial_task


def run_trials(execution: Execution, loop_name: str, task_spec: Any, label: str) -> int:
    """Run the loop's trials, ``parallel`` at a time; put the collected outputs in the store and return how
    many trials failed."""
    from kfp.local.orchestrator.orchestrator_utils import OrchestratorUtils

    items = json.loads(task_spec.parameter_iterator.items.raw)
    inner = execution.inner_order(task_spec)
    loop_inputs = OrchestratorUtils.make_task_arguments(task_spec.inputs, execution.store)
    at_once = min(execution.parallel, len(items))
    execution.progress(
        f"{label}: {len(items)} trials, {at_once} at a time "
        f"(logs: {execution.run_dir}/{trial_task(inner[-1], 'N')}/log.txt)"
    )
    sweep = execution.sweep
    execution.record.trials = [
        TrialRecord(
            number, sweep.trials[number - 1] if sweep else item, [trial_task(s, number) for s in inner]
        )
        for number, item in enumerate(items, start=1)
    ]
    stores: dict[int, Any] = {}
    failed = 0
    with ThreadPoolExecutor(max_workers=execution.parallel, thread_name_prefix="trial") as pool:
        futures = {
            pool.submit(_run_trial, execution, task_spec, inner, number, item, loop_inputs, stores): number
            for number, item in enumerate(items, start=1)
        }
        try:
            for finished, future in enumerate(as_completed(futures), start=1):
                error = future.exception()
                if isinstance(error, (KeyboardInterrupt, SystemExit)):
                    raise error
                failed += error is not None
                trial = execution.record.trials[futures[future] - 1]
                _report(execution, trial, f"{finished}/{len(items)}", error)
        except BaseException:
            for future in futures:
                future.cancel()
            _cancel(execution)
            raise
    _collect(execution, loop_name, task_spec, stores, len(items))
    if failed == len(items):
        execution.progress(f"{label}: every trial failed")
    elif failed:
        execution.progress(f"{label}: {failed} of {len(items)} trials failed; the others go on")
    return failed


def _run_trial(
    execution: Execution,
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
    dag = execution.spec.components[task_spec.component_ref.name].dag
    with execution.lock:
        execution.record.trials[number - 1].state = State.RUNNING
    for name in inner:
        execution.run_task(dag.tasks[name], trial_task(name, number), store, None)


def _cancel(execution: Execution) -> None:
    """Ctrl-C (or an error) during the loop: stop every running step, record the trials and the run."""
    execution.cancelled = True
    processes.stop_all()
    with execution.lock:
        for trial in execution.record.trials:
            if trial.state in (State.PENDING, State.RUNNING):
                trial.state = State.CANCELLED
        execution.record.finish(State.CANCELLED)
        execution.record.save()


def _report(execution: Execution, trial: TrialRecord, done: str, error: BaseException | None) -> None:
    """A finished trial's entry in ``run.json``, and its progress line."""
    record = execution.record
    tasks = [record.tasks[name] for name in trial.tasks]
    with execution.lock:
        trial.state = State.FAILED if error is not None else State.SUCCEEDED
        trial.metrics = {name: record.metrics[name] for name in trial.tasks if name in record.metrics}
        trial.artifacts = {
            f"{name}.{key}": output["uri"]
            for name, task in zip(trial.tasks, tasks, strict=True)
            for key, output in task.outputs.items()
            if "uri" in output
        }
        trial.error = summary(error) if error is not None else None
        record.save()
    if error is not None:
        outcome = f"FAILED ({trial.error})"
    else:
        seconds = sum(task.duration_s or 0.0 for task in tasks)
        metric = execution.sweep.metric if execution.sweep else None  # sweep.select.metric
        shown = [
            m[metric]
            for out in trial.metrics.values()
            for m in out.values()
            if isinstance(m.get(metric), (int, float))
        ]
        outcome = f"succeeded in {seconds:.1f}s" + (f", {metric} {shown[0]:.4f}" if shown else "")
    parameters = ", ".join(f"{key}={value!r}" for key, value in trial.parameters.items())
    execution.progress(f"  trial {trial.trial} [{done} done] {parameters}: {outcome}")


def _collect(
    execution: Execution, loop_name: str, task_spec: Any, stores: dict[int, Any], count: int
) -> None:
    """The loop's outputs. A failed trial contributes the artifact it was given (its files may be missing),
    so that the steps after the loop can report it."""
    dag = execution.spec.components[task_spec.component_ref.name].dag
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
            prepared = execution.prepared.get(trial_task(selector.producer_subtask, number))
            if prepared is not None:
                collected.append(declared_output(prepared, selector.output_artifact_key))
        execution.store.put_task_output(loop_name, key, collected)


__all__ = ["run_trials"]
