"""A step that runs as a Vertex AI CustomJob: several replicas, a named machine type, Spot VMs.

A plain task asks Vertex AI Pipelines for CPU, memory and accelerator limits and gets one machine. A step
with ``resources.replica_count`` > 1, a ``resources.machine_type`` or ``scheduling`` settings is instead
wrapped with google-cloud-pipeline-components' ``create_custom_training_job_from_component``: the task
runs GCPC's launcher, which creates a CustomJob whose ``worker_pool_specs`` carry the component's own image,
command and args (pool 0: one primary replica; pool 1: the other R - 1). Vertex AI sets ``CLUSTER_SPEC`` on
every replica; the trainer joins the cluster from it. ``pipeline-sdk run`` starts the same replicas as local
processes (:mod:`pipeline_sdk.local.cluster_handler`).

The worker pools travel inside the launcher's one ``--payload`` argument, a JSON text. At run time the
service pastes each parameter value into it as it is, with no escaping, and the launcher parses the result
with ``json.loads`` (GCPC 2.22.0 ``v1/custom_job/utils.py``, ``container/v1/custom_job/remote_runner.py``;
kubeflow/pipelines#8166): a value holding ``"``, ``\\`` or a newline would break the payload. So a value
for a worker-pool arg is handed over JSON-escaped (:func:`payload_text`), and ``pipeline-sdk run`` builds
the replicas' command lines by the same paste-then-parse (:func:`resolved_worker_pools`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig

from pipeline_sdk.accelerators import check_machine, default_machine
from pipeline_sdk.tensorboard import default_base_output_directory

#: Scheduling strategies this toolkit exposes (Vertex AI's ``Scheduling.Strategy``); null means STANDARD.
STRATEGIES: tuple[str, ...] = ("STANDARD", "SPOT")
#: How a compiled executor is recognised as GCPC's CustomJob launcher.
LAUNCHER_MODULE = "google_cloud_pipeline_components.container.v1.custom_job.launcher"
DURATION = re.compile(r"^\d+(\.\d{1,9})?s$")
# Resolved by Vertex AI at run time to the PipelineJob's own settings, so the CustomJob runs as the pipeline's
# service account, on its network, with its CMEK key (GCPC's _placeholders; without them a CustomJob runs as
# the Vertex AI Custom Code Service Agent, unpeered, Google-encrypted).
_FROM_PIPELINE_JOB = {
    "service_account": "{{$.pipeline_service_account}}",
    "network": "{{$.pipeline_network}}",
    "encryption_spec_key_name": "{{$.pipeline_encryption_key_name}}",
}


@dataclass(frozen=True)
class CustomJobSettings:
    """What a wrapped step's CustomJob asks for (``create_custom_training_job_from_component``'s names)."""

    replica_count: int
    machine_type: str
    accelerator_type: str
    accelerator_count: int
    strategy: str
    restart_job_on_worker_restart: bool
    timeout: str | None
    tensorboard: str = ""  # a Vertex AI TensorBoard instance; empty: none
    base_output_directory: str = ""  # gs:// prefix; Vertex AI sets AIP_*_DIR under it; empty: none

    def arguments(self) -> dict[str, Any]:
        """Keyword arguments for ``create_custom_training_job_from_component``."""
        args: dict[str, Any] = {
            "replica_count": self.replica_count,
            "machine_type": self.machine_type,
            "strategy": self.strategy,
            "restart_job_on_worker_restart": self.restart_job_on_worker_restart,
            **_FROM_PIPELINE_JOB,
        }
        if self.accelerator_type:
            args.update(accelerator_type=self.accelerator_type, accelerator_count=self.accelerator_count)
        if self.timeout is not None:
            args["timeout"] = self.timeout
        if self.tensorboard:
            args["tensorboard"] = self.tensorboard
        if self.base_output_directory:
            args["base_output_directory"] = self.base_output_directory
        return args


def custom_job_reasons(step: DictConfig) -> list[str]:
    """The settings of ``step`` that need a CustomJob (more than one replica, a machine type, scheduling,
    a TensorBoard, a base output directory), e.g. ``["replica_count=2", "strategy=SPOT"]``; empty for a
    plain task."""
    res, scheduling = step.resources, step.scheduling
    reasons = [
        f"replica_count={res.replica_count}" if res.replica_count != 1 else "",
        f"machine_type={res.machine_type}" if res.machine_type else "",
        f"strategy={scheduling.strategy}" if (scheduling.strategy or "STANDARD") != "STANDARD" else "",
        "restart_job_on_worker_restart" if scheduling.restart_job_on_worker_restart else "",
        f"timeout={scheduling.timeout}" if scheduling.timeout is not None else "",
        "tensorboard" if step.get("tensorboard") else "",
        "base_output_directory" if step.get("base_output_directory") else "",
    ]
    return [reason for reason in reasons if reason]


def wants_custom_job(step: DictConfig) -> bool:
    """Whether ``step``'s settings need a CustomJob."""
    return bool(custom_job_reasons(step))


def custom_job_settings(
    key: str, step: DictConfig, pipeline_root: str | None = None
) -> CustomJobSettings | None:
    """The CustomJob of the step configured at ``key`` (``steps.NAME`` or ``sweep.steps.NAME``), checked;
    ``None`` when the step runs as a plain task. ``pipeline_root`` (``gcp.pipeline_root``) holds the default
    base output directory of a step with a TensorBoard."""
    # the values were checked with the rest of the config (config.py); here the machine is chosen
    res, scheduling = step.resources, step.scheduling
    if not wants_custom_job(step):
        return None
    strategy = scheduling.strategy or "STANDARD"
    accelerator = res.accelerator_type if res.accelerator_type and res.accelerator_count > 0 else None
    count = res.accelerator_count if accelerator else 0
    if res.machine_type:
        machine = check_machine(str(res.machine_type), accelerator, count, f"{key}.resources").name
    else:
        machine = default_machine(accelerator, count, res.cpu, res.memory, f"{key}.resources")
    return CustomJobSettings(
        replica_count=int(res.replica_count),
        machine_type=machine,
        accelerator_type=accelerator or "",
        accelerator_count=count,
        strategy=strategy,
        restart_job_on_worker_restart=bool(scheduling.restart_job_on_worker_restart),
        timeout=None if scheduling.timeout is None else str(scheduling.timeout),
        tensorboard=str(step.get("tensorboard") or ""),
        base_output_directory=_base_output_directory(key, step, pipeline_root),
    )


def _base_output_directory(key: str, step: DictConfig, pipeline_root: str | None) -> str:
    """The step's ``base_output_directory``; with a TensorBoard and none given, one under
    ``gcp.pipeline_root`` (config.py has checked that one of the two is set)."""
    if step.get("base_output_directory"):
        return str(step.base_output_directory)
    if not step.get("tensorboard") or not pipeline_root:
        return ""
    return default_base_output_directory(str(pipeline_root), key.rsplit(".", 1)[-1])


#: the executor input placeholder, and its form inside the payload's JSON text (GCPC v1/custom_job/utils.py)
EXECUTOR_INPUT, JSON_ESCAPED_EXECUTOR_INPUT = "{{$}}", "{{$.json_escape[1]}}"


def wrap(factory: Any, settings: CustomJobSettings) -> Any:
    """``factory`` (a loaded container component) as GCPC's CustomJob component with ``settings``.

    GCPC rewrites an arg that *is* ``{{$}}`` to ``{{$.json_escape[1]}}``, since the executor input's JSON
    would break the payload's; ``{{$}}`` inside a longer arg (``kfp.executor_input='{{$}}'``) is rewritten
    here the same way (GCPC's own components pass ``--executor_input={{$.json_escape[1]}}``).
    """
    import copy

    from google_cloud_pipeline_components.v1.custom_job import create_custom_training_job_from_component
    from kfp.dsl.base_component import BlockPipelineTaskRegistration

    own = copy.deepcopy(factory)
    container = own.component_spec.implementation.container
    container.args = [
        arg.replace(EXECUTOR_INPUT, JSON_ESCAPED_EXECUTOR_INPUT) if isinstance(arg, str) else arg
        for arg in container.args or []
    ]
    # GCPC reads the component's pipeline spec, which kfp builds by calling the component: inside the
    # pipeline being built that call would add a stray task to it.
    with BlockPipelineTaskRegistration():
        return create_custom_training_job_from_component(own, **settings.arguments())


def is_launcher(command: list[str]) -> bool:
    """Whether a compiled container ``command`` is GCPC's CustomJob launcher."""
    return LAUNCHER_MODULE in command


def worker_pools(component: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``worker_pool_specs`` of a compiled component (JSON form); empty for any other component."""
    parameters = component.get("inputDefinitions", {}).get("parameters", {})
    pools = parameters.get("worker_pool_specs", {}).get("defaultValue") or []
    return [pool for pool in pools if isinstance(pool, dict)]


def pool_args(component: Mapping[str, Any]) -> list[str]:
    """The container args of a compiled CustomJob component's worker pools, each once (GCPC gives every
    pool the same container)."""
    args = (arg for pool in worker_pools(component) for arg in pool.get("container_spec", {}).get("args", []))
    return list(dict.fromkeys(arg for arg in args if isinstance(arg, str)))


class PayloadError(ValueError):
    """The CustomJob payload is not JSON once the values are pasted in: the launcher would fail."""


def payload_text(text: str) -> str:
    """``text`` written so that, pasted as it is into a JSON string of the payload, it parses back as
    ``text``: JSON's own escapes, plus ``{`` and ``}`` as ``\\u007b``/``\\u007d`` so that the pasted text
    never holds a placeholder's ``{{`` for the service to substitute again."""
    escaped = json.dumps(text, ensure_ascii=False)[1:-1]
    return escaped.replace("{", "\\u007b").replace("}", "\\u007d")


def from_payload(pasted: str) -> str:
    """What a replica receives for ``pasted``, a value pasted into a JSON string of the payload."""
    try:
        return str(json.loads(f'"{pasted}"'))
    except ValueError as e:
        raise PayloadError(f"pasted into the CustomJob payload it is not JSON ({e.msg})") from None


def resolved_worker_pools(
    pools: list[dict[str, Any]], substitute: Callable[[str], str]
) -> list[dict[str, Any]]:
    """``pools`` as the CustomJob receives them: their JSON text with ``substitute`` pasting every
    placeholder's value in as it is, then parsed, as GCPC's launcher parses its payload."""
    text = substitute(json.dumps(pools))
    try:
        resolved = json.loads(text)
    except ValueError as e:
        raise PayloadError(
            f"the CustomJob payload is not JSON once the values are pasted in ({e.msg} at character "
            f"{e.pos}); Vertex AI would fail the step the same way"
        ) from None
    return [pool for pool in resolved if isinstance(pool, dict)]


def without_launcher(component_spec: Any) -> Any:
    """A copy of a compiled CustomJob ``ComponentSpec`` (proto) with only the wrapped component's own
    inputs and outputs: what its worker pools' command sees."""
    from google_cloud_pipeline_components.v1.custom_job import component

    launcher = component.custom_training_job.component_spec
    own = type(component_spec)()
    own.CopyFrom(component_spec)
    for name in launcher.inputs or {}:
        if name in own.input_definitions.parameters:
            del own.input_definitions.parameters[name]
    for name in launcher.outputs or {}:
        if name in own.output_definitions.parameters:
            del own.output_definitions.parameters[name]
    return own


def wrapped_steps(cfg: DictConfig) -> list[tuple[str, DictConfig]]:
    """(config key, entry) of the configured steps (sweep steps included) that run as CustomJobs."""
    entries = [(f"steps.{n}", s) for n, s in cfg.steps.items()]
    entries += [(f"sweep.steps.{n}", s) for n, s in cfg.sweep.steps.items()]
    return [(key, step) for key, step in entries if wants_custom_job(step)]


__all__ = [
    "EXECUTOR_INPUT",
    "JSON_ESCAPED_EXECUTOR_INPUT",
    "LAUNCHER_MODULE",
    "STRATEGIES",
    "CustomJobSettings",
    "PayloadError",
    "custom_job_reasons",
    "custom_job_settings",
    "from_payload",
    "is_launcher",
    "payload_text",
    "pool_args",
    "resolved_worker_pools",
    "wants_custom_job",
    "without_launcher",
    "worker_pools",
    "wrap",
    "wrapped_steps",
]
