"""Run one container task of a compiled pipeline as a subprocess, the way its image would run it.

kfp.local builds the ExecutorInput and resolves the placeholders (the same code kfp's own local runners
use); the container's ``command`` + ``args`` then run in the current environment, where the component
packages installed the same console scripts their images have. A Vertex AI CustomJob step
(:mod:`pipeline_sdk.custom_job`) runs its worker pools' command instead of GCPC's launcher, as one process
per replica (:mod:`pipeline_sdk.local.replicas`).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline_sdk.errors import LocalRunError


@dataclass(frozen=True)
class PreparedTask:
    """A task ready to run: resolved command line, its directory and the executor input."""

    name: str
    command: list[str]
    env: dict[str, str]
    task_root: Path
    executor_input: Any  # pipeline_spec_pb2.ExecutorInput
    component_spec: Any  # pipeline_spec_pb2.ComponentSpec
    replicas: int = 1  # a CustomJob step's replica count: that many processes, one cluster


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

    from pipeline_sdk.custom_job import is_launcher, without_launcher

    launcher = is_launcher(list(container.command))
    # the launcher's own parameters hold placeholders only Vertex AI resolves; its worker pools see the
    # component's own inputs and outputs
    own_spec = without_launcher(component_spec) if launcher else component_spec
    task_root = Path(executor_input_utils.construct_local_task_root(str(pipeline_root), run_name, name))
    executor_input = executor_input_utils.construct_executor_input(
        component_spec=own_spec,
        arguments=arguments,
        task_root=str(task_root),
        block_input_artifact=False,
    )
    substitute = functools.partial(
        placeholder_utils.replace_placeholders,
        executor_input_dict=executor_input_utils.executor_input_to_dict(executor_input, own_spec),
        pipeline_resource_name=run_name,
        task_resource_name=name,
        pipeline_root=str(pipeline_root),
        unique_pipeline_id=run_id,
    )
    if launcher:
        command, env_items, replicas = _worker_pools_command(name, component_spec, substitute)
    else:
        command = substitute(full_command=[*container.command, *container.args])
        env_items, replicas = {e.name: e.value for e in container.env}, 1
    # a replica's cluster is what local/replicas.py gives it, never one this process happened to inherit
    env = {key: value for key, value in os.environ.items() if key != "CLUSTER_SPEC"}
    # The venv's console scripts first, as the image's PATH has them.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONUNBUFFERED"] = "1"
    env.update(env_items)
    return PreparedTask(name, command, env, task_root, executor_input, own_spec, replicas)


def _worker_pools_command(
    name: str, component_spec: Any, substitute: Callable[..., list[str]]
) -> tuple[list[str], dict[str, str], int]:
    """Command line, environment and replica count of a CustomJob step: its worker pools' (GCPC gives every
    pool the same container), as the job receives them after the service's paste-then-parse."""
    from google.protobuf import json_format

    from pipeline_sdk.custom_job import PayloadError, worker_pools

    try:
        pools = _pools_as_received(worker_pools(json_format.MessageToDict(component_spec)), substitute)
    except PayloadError as e:
        raise LocalRunError(f"step {name!r} cannot start: {e}") from None
    spec = pools[0]["container_spec"]
    env = {str(e["name"]): str(e["value"]) for e in spec.get("env", [])}
    replicas = sum(int(pool.get("replica_count", 1)) for pool in pools)
    return [*spec.get("command", []), *spec.get("args", [])], env, replicas


def _pools_as_received(
    pools: list[dict[str, Any]], substitute: Callable[..., list[str]]
) -> list[dict[str, Any]]:
    """A CustomJob's worker pools after the service's paste-then-parse
    (:func:`pipeline_sdk.custom_job.resolved_worker_pools`). kfp.local pastes raw, as the service does,
    but has no ``{{$.json_escape[1]}}`` (GCPC's form of ``{{$}}`` in the payload): the executor input JSON,
    escaped once for a JSON string, is put in first."""
    from pipeline_sdk.custom_job import EXECUTOR_INPUT, JSON_ESCAPED_EXECUTOR_INPUT, resolved_worker_pools

    def paste(text: str) -> str:
        if JSON_ESCAPED_EXECUTOR_INPUT in text:
            (executor_input,) = substitute(full_command=[EXECUTOR_INPUT])
            text = text.replace(JSON_ESCAPED_EXECUTOR_INPUT, json.dumps(executor_input)[1:-1])
        (pasted,) = substitute(full_command=[text])
        return pasted

    return resolved_worker_pools(pools, paste)


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


#: every step process started (finished ones are pruned): sweep trials run several steps at once, each
#: waited on by its own thread, and Ctrl-C in the main thread must stop them all
_STARTED: list[subprocess.Popen[str]] = []
_STARTED_LOCK = threading.Lock()


def stop_running_tasks() -> None:
    """Stop every step process of this runner still running."""
    with _STARTED_LOCK:
        running = [child for child in _STARTED if child.poll() is None]
    stop_processes(running)


def start_process(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """Start ``command`` in its own session (its process group is what gets stopped), output piped."""
    child = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
        preexec_fn=_die_with_parent(),
    )
    with _STARTED_LOCK:
        _STARTED[:] = [c for c in _STARTED if c.poll() is None] + [child]
    return child


def cannot_start(task: PreparedTask, error: OSError) -> LocalRunError:
    if error.errno == errno.E2BIG:
        size = sum(len(part.encode(errors="replace")) + 1 for part in task.command)
        return LocalRunError(
            f"step {task.name!r}: its command line ({len(task.command)} arguments, {size} bytes) is longer "
            "than this system allows (E2BIG); shorten the parameter values"
        )
    return LocalRunError(
        f"step {task.name!r}: cannot run {task.command[0]!r} ({error.strerror}); "
        "is the package that provides this console script installed in this environment?"
    )


def run_task(task: PreparedTask, log_path: Path, echo: Callable[[str], None] | None = None) -> int:
    """Run the task, writing its combined stdout/stderr to ``log_path``; return the exit code.

    On Ctrl-C the child is stopped (SIGINT, then SIGTERM, then SIGKILL) before the interrupt propagates.
    A task with several replicas runs them as one local cluster (:func:`~pipeline_sdk.local.replicas.run_replicas`).
    """
    task.task_root.mkdir(parents=True, exist_ok=True)
    if task.replicas > 1:
        from pipeline_sdk.local.replicas import run_replicas

        return run_replicas(task, log_path, echo)
    with open(log_path, "w", buffering=1) as log:
        log.write(f"$ {subprocess.list2cmdline(task.command)}\n")
        try:
            child = start_process(task.command, task.task_root, task.env)
        except OSError as e:
            log.write(f"cannot start: {e}\n")
            raise cannot_start(task, e) from None
        try:
            assert child.stdout is not None
            for line in child.stdout:
                log.write(line)
                if echo is not None:
                    echo(line.rstrip("\n"))
            return child.wait()
        except BaseException:
            stop_processes([child])
            raise


#: Ctrl-C as a terminal sends it, then SIGTERM, then SIGKILL: (signal, seconds to wait after it)
INTERRUPT: tuple[tuple[signal.Signals, float | None], ...] = (
    (signal.SIGINT, 5.0),
    (signal.SIGTERM, 5.0),
    (signal.SIGKILL, None),
)


def stop_processes(
    children: Sequence[subprocess.Popen[str]],
    steps: Sequence[tuple[signal.Signals, float | None]] = INTERRUPT,
) -> None:
    """Stop the children's process groups together: each signal of ``steps`` to those still running, then
    wait up to its grace period (``None``: until they are gone) before the next."""
    for sig, grace in steps:
        alive = [child for child in children if child.poll() is None]
        if not alive:
            return
        for child in alive:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, sig)
        deadline = None if grace is None else time.monotonic() + grace
        for child in alive:
            try:
                child.wait(timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                continue


#: lines of a failed step's log quoted in its error
LOG_TAIL_LINES = 30


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of a step's log, indented, for an error message."""
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "  (no log)"
    return "\n".join(f"  {line}" for line in text[-lines:])


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
            raise LocalRunError(
                f"step {task.name!r} exited 0 but did not write its output artifact {name!r} "
                f"at {outputs[name].uri}"
            )
    return outputs


__all__ = [
    "PreparedTask",
    "collect_outputs",
    "declared_output",
    "log_tail",
    "prepare_task",
    "run_task",
    "start_process",
    "stop_processes",
    "stop_running_tasks",
]
