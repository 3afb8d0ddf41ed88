"""Run one container task of a compiled pipeline as a subprocess, the way its image would run it.

kfp.local builds the ExecutorInput and resolves the placeholders (the same code kfp's own local runners
use); the container's ``command`` + ``args`` then run in the current environment, where the component
packages installed the same console scripts their images have.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline_sdk.errors import LocalRunError

#: the step processes running now (sweep trials run several at once, each waited on by its own thread)
_RUNNING: set[subprocess.Popen[str]] = set()
_RUNNING_LOCK = threading.Lock()


@dataclass(frozen=True)
class PreparedTask:
    """A task ready to run: resolved command line, its directory and the executor input."""

    name: str
    command: list[str]
    env: dict[str, str]
    task_root: Path
    executor_input: Any  # pipeline_spec_pb2.ExecutorInput
    component_spec: Any  # pipeline_spec_pb2.ComponentSpec


def prepare_task(
    name: str,
    component_spec: Any,
    container: Any,
    arguments: dict[str, Any],
    pipeline_root: Path,
    run_name: str,
    run_id: str,
) -> PreparedTask:
    """Build the ExecutorInput for ``arguments`` and resolve the container's placeholders with kfp."""
    from kfp.local import executor_input_utils, placeholder_utils

    task_root = Path(executor_input_utils.construct_local_task_root(str(pipeline_root), run_name, name))
    executor_input = executor_input_utils.construct_executor_input(
        component_spec=component_spec,
        arguments=arguments,
        task_root=str(task_root),
        block_input_artifact=False,
    )
    executor_input_dict = executor_input_utils.executor_input_to_dict(executor_input, component_spec)
    command = placeholder_utils.replace_placeholders(
        full_command=[*container.command, *container.args],
        executor_input_dict=executor_input_dict,
        pipeline_resource_name=run_name,
        task_resource_name=name,
        pipeline_root=str(pipeline_root),
        unique_pipeline_id=run_id,
    )
    env = dict(os.environ)
    # The venv's console scripts first, as the image's PATH has them.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONUNBUFFERED"] = "1"
    env.update({item.name: item.value for item in container.env})
    return PreparedTask(name, command, env, task_root, executor_input, component_spec)


def _die_with_parent() -> Callable[[], None] | None:
    """Linux: a pre-exec hook giving the step SIGTERM when the runner dies, even by SIGKILL.

    Without it a killed ``pipeline-sdk run`` would leave its training step running (the step has its own
    session, so that Ctrl-C reaches the runner first and the runner stops the step in order).
    """
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved before fork, called after
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1
    return lambda: prctl(pr_set_pdeathsig, signal.SIGTERM)


def run_task(task: PreparedTask, log_path: Path, echo: Callable[[str], None] | None = None) -> int:
    """Run the task, writing its combined stdout/stderr to ``log_path``; return the exit code.

    On Ctrl-C the child is stopped (SIGINT, then SIGTERM, then SIGKILL) before the interrupt propagates.
    """
    task.task_root.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", buffering=1) as log:
        log.write(f"$ {subprocess.list2cmdline(task.command)}\n")
        try:
            child = subprocess.Popen(
                task.command,
                cwd=task.task_root,
                env=task.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                start_new_session=True,
                preexec_fn=_die_with_parent(),
            )
        except OSError as e:
            log.write(f"cannot start: {e}\n")
            raise LocalRunError(
                f"step {task.name!r}: cannot run {task.command[0]!r} ({e.strerror}); "
                "is the package that provides this console script installed in this environment?"
            ) from None
        with _RUNNING_LOCK:
            _RUNNING.add(child)
        try:
            assert child.stdout is not None
            for line in child.stdout:
                log.write(line)
                if echo is not None:
                    echo(line.rstrip("\n"))
            return child.wait()
        except BaseException:
            _stop([child])
            raise
        finally:
            with _RUNNING_LOCK:
                _RUNNING.discard(child)


def stop_running_tasks() -> None:
    """Stop every step process still running (Ctrl-C while several sweep trials run)."""
    with _RUNNING_LOCK:
        children = list(_RUNNING)
    _stop(children)


def _stop(children: list[subprocess.Popen[str]]) -> None:
    """Stop the children's process groups: SIGINT (like Ctrl-C), then SIGTERM, then SIGKILL."""
    for sig, grace in ((signal.SIGINT, 5.0), (signal.SIGTERM, 5.0), (signal.SIGKILL, None)):
        alive = [child for child in children if child.poll() is None]
        for child in alive:
            try:
                os.killpg(child.pid, sig)
            except ProcessLookupError:
                pass
        for child in alive:
            try:
                child.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                continue


def collect_outputs(task: PreparedTask) -> dict[str, Any]:
    """The task's outputs: ExecutorOutput contents (e.g. metrics metadata) over the declared artifacts.

    Every declared output artifact must exist on disk; a step that "succeeds" without writing one fails.
    """
    from kfp.local import executor_output_utils

    outputs = executor_output_utils.get_outputs_for_task(task.executor_input, task.component_spec)
    for name, artifact_list in task.executor_input.outputs.artifacts.items():
        if name not in outputs:
            outputs[name] = executor_output_utils.artifact_list_to_dsl_artifact(
                artifact_list, is_artifact_list=False
            )
        if not Path(outputs[name].uri).exists():
            raise LocalRunError(
                f"step {task.name!r} exited 0 but did not write its output artifact {name!r} "
                f"at {outputs[name].uri}"
            )
    return outputs


__all__ = ["PreparedTask", "collect_outputs", "prepare_task", "run_task", "stop_running_tasks"]
