"""Prepare one container task of a compiled pipeline to run as the image would run it.

kfp.local builds the ExecutorInput and resolves the placeholders (the same code kfp's own local runners
use); the container's ``command`` + ``args`` then run in the current environment, where the component
packages installed the same console scripts their images have. A Vertex AI CustomJob step
(:mod:`pipeline_sdk.custom_job`) runs its worker pools' command instead of GCPC's launcher, one process per
replica (:mod:`pipeline_sdk.local.cluster_handler`).
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline_sdk.errors import StepFailed


@dataclass(frozen=True)
class PreparedTask:
    """A task ready to run: resolved command line, its directory and the executor input."""

    name: str
    command: list[str]
    env: dict[str, str]
    task_root: Path
    executor_input: Any  # pipeline_spec_pb2.ExecutorInput
    component_spec: Any  # pipeline_spec_pb2.ComponentSpec
    pools: tuple[int, ...] = (1,)  # replicas of each worker pool (a CustomJob step's); one process each

    @property
    def replicas(self) -> int:
        return sum(self.pools)


def prepare_task(
    name: str,
    component_spec: Any,
    container: Any,
    arguments: dict[str, Any],
    pipeline_root: Path,
    run_name: str,
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
        unique_pipeline_id=run_name,
    )
    if launcher:
        command, env_items, pools = _worker_pools_command(name, component_spec, substitute)
    else:
        command = substitute(full_command=[*container.command, *container.args])
        env_items, pools = {e.name: e.value for e in container.env}, (1,)
    # a replica's cluster is what the cluster handler gives it, never one this process happened to inherit
    env = {key: value for key, value in os.environ.items() if key != "CLUSTER_SPEC"}
    # The venv's console scripts first, as the image's PATH has them.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONUNBUFFERED"] = "1"
    env.update(env_items)
    return PreparedTask(name, command, env, task_root, executor_input, own_spec, pools)


def _worker_pools_command(
    name: str, component_spec: Any, substitute: Callable[..., list[str]]
) -> tuple[list[str], dict[str, str], tuple[int, ...]]:
    """Command line, environment and pool sizes of a CustomJob step: its worker pools' (GCPC gives every
    pool the same container), as the job receives them after the service's paste-then-parse."""
    from google.protobuf import json_format

    from pipeline_sdk.custom_job import PayloadError, worker_pools

    try:
        pools = _pools_as_received(worker_pools(json_format.MessageToDict(component_spec)), substitute)
    except PayloadError as e:
        raise StepFailed(name, f"cannot start: {e}") from None
    spec = pools[0]["container_spec"]
    env = {str(e["name"]): str(e["value"]) for e in spec.get("env", [])}
    sizes = tuple(int(pool.get("replica_count", 1)) for pool in pools)
    return [*spec.get("command", []), *spec.get("args", [])], env, sizes


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


__all__ = ["PreparedTask", "prepare_task"]
