"""The typed schema of configs/pipeline.yaml: types only, the values live in the YAML.

:func:`pipeline_sdk.config.load_config` merges the composed YAML into these dataclasses, so a key that is
not declared here, or a value of the wrong type, is a :class:`~pipeline_sdk.errors.ConfigError`. Top-level
keys have no default here (``MISSING``): ``configs/pipeline.yaml`` is the one place their values are
written. Only a step's optional settings have defaults, the values a step gets when its entry omits them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from omegaconf import MISSING

# OmegaConf 2.3 structured configs need typing.Optional (it does not read `X | None`).
# ruff: noqa: UP045


@dataclass
class PipelineInfo:
    name: str = MISSING
    description: str = MISSING


@dataclass
class Resources:
    """The machine a step asks for on Vertex AI / KFP (``pipeline-sdk run`` only honours ``replica_count``).

    ``replica_count`` > 1 or a ``machine_type`` make the step a Vertex AI CustomJob
    (:mod:`pipeline_sdk.custom_job`); ``cpu``/``memory`` then only pick the default machine type.
    """

    accelerator_type: Optional[str] = None
    accelerator_count: int = 0
    cpu: Optional[str] = None
    memory: Optional[str] = None
    replica_count: int = 1  # machines, each with accelerator_count GPUs
    machine_type: Optional[str] = None  # e.g. g2-standard-8; None: the smallest that fits


@dataclass
class Scheduling:
    """How Vertex AI schedules a step's CustomJob (GCPC ``create_custom_training_job_from_component`` names)."""

    strategy: Optional[str] = None  # STANDARD | SPOT; None: STANDARD
    restart_job_on_worker_restart: bool = False
    timeout: Optional[str] = None  # e.g. '86400s'; None: 7 days


@dataclass
class Step:
    """One task of the pipeline: a component YAML and where each of its inputs comes from.

    ``inputs`` maps a component input name to ``params.NAME`` (a pipeline parameter) or
    ``STEP.outputs.NAME`` (an output artifact of another step); inputs left out take the component's
    default. ``after`` orders steps that exchange no data.
    """

    component: str = MISSING
    inputs: dict[str, str] = field(default_factory=dict)
    after: list[str] = field(default_factory=list)
    resources: Resources = field(default_factory=Resources)
    scheduling: Scheduling = field(default_factory=Scheduling)
    retries: int = 0
    caching: Optional[bool] = None  # None: the pipeline's `caching`
    #: a Vertex AI TensorBoard instance the step's CustomJob uploads its logs to (pipeline_sdk.tensorboard);
    #: setting it makes the step a CustomJob. None: no upload
    tensorboard: Optional[str] = None
    #: gs:// prefix of the CustomJob's output (AIP_TENSORBOARD_LOG_DIR = <it>/logs/); None: under
    #: gcp.pipeline_root when tensorboard is set, else none
    base_output_directory: Optional[str] = None


@dataclass
class Select:
    """How a sweep's trials are ranked: by ``metric`` (a key of each trial's metrics.json), toward ``goal``.

    The compiler hands both, and each trial's swept values, to the sweep steps that declare the inputs
    ``selection_metric``, ``selection_goal`` and ``trial_parameters`` (pipeline_shape.SELECTION_INPUTS).
    """

    metric: str = MISSING
    goal: str = MISSING  # maximize or minimize


@dataclass
class Sweep:
    """``-m`` sweeps (:mod:`pipeline_sdk.sweep`): their limits, and the steps that run once after the trials.

    A ``steps`` entry is a :class:`Step`; its ``STEP.outputs.NAME`` inputs from the trial steps receive
    every trial's output as one list (``dsl.Collected``).
    """

    max_trials: int = MISSING
    max_parallel: int = MISSING  # trials at once on Vertex/KFP; 0: no limit
    select: Select = field(default_factory=Select)
    steps: dict[str, Step] = MISSING


@dataclass
class Promote:
    """Guarded promotion: ``alias`` moves to the new version only when its ``metric`` beats the current
    holder's by more than ``margin`` (``alias`` null: no guarded alias)."""

    alias: Optional[str] = MISSING
    metric: str = MISSING  # a key of metrics.json; never a test_* one
    margin: float = MISSING


@dataclass
class Register:
    """The register-model step (:mod:`pipeline_sdk.release_steps`): a new version of ``model_name`` in the
    Vertex AI Model Registry, from ``model`` (``sweep_model`` in a sweep)."""

    enabled: bool = MISSING
    component: str = MISSING
    model: str = MISSING  # STEP.outputs.NAME
    sweep_model: str = MISSING  # STEP.outputs.NAME of a sweep step
    model_name: str = MISSING
    serving_image: Optional[str] = MISSING  # None: the hydra-vertex-serve image compile pins
    version_aliases: list[str] = MISSING
    promote: Promote = field(default_factory=Promote)
    labels: dict[str, str] = MISSING
    retries: int = MISSING


@dataclass
class Deploy:
    """The deploy-model step: the registered version on the endpoint ``endpoint_name``."""

    enabled: bool = MISSING
    component: str = MISSING
    endpoint_name: str = MISSING
    machine_type: str = MISSING
    accelerator_type: Optional[str] = MISSING
    accelerator_count: int = MISSING
    min_replicas: int = MISSING
    max_replicas: int = MISSING
    traffic_percentage: int = MISSING
    retries: int = MISSING


@dataclass
class Gcp:
    project: Optional[str] = MISSING
    region: str = MISSING
    pipeline_root: Optional[str] = MISSING
    service_account: Optional[str] = MISSING
    network: Optional[str] = MISSING
    labels: dict[str, str] = MISSING
    experiment: Optional[str] = MISSING
    api_endpoint: Optional[str] = MISSING
    encryption_spec_key_name: Optional[str] = MISSING
    tensorboard: Optional[str] = MISSING  # projects/P/locations/L/tensorboards/ID


@dataclass
class Images:
    registry: str = MISSING
    lock_file: str = MISSING


@dataclass
class Kfp:
    host: Optional[str] = MISSING
    experiment: str = MISSING
    namespace: Optional[str] = MISSING


@dataclass
class Local:
    root: str = MISSING
    max_processes: Optional[int] = MISSING  # None: what this machine holds (local/limits.py)


@dataclass
class Webhook:
    """Where the KFP webhook exit step reads its URL: key ``key`` of the Kubernetes secret ``secret``, put
    in the environment variable ``env`` (``secret`` null: no webhook)."""

    secret: Optional[str] = MISSING
    key: str = MISSING
    env: str = MISSING


@dataclass
class Notify:
    """Notifications when a run ends (:mod:`pipeline_sdk.notifications`): email on Vertex AI, a webhook on
    KFP; ``on`` is failure or always."""

    emails: list[str] = MISSING
    on: str = MISSING
    webhook: Webhook = field(default_factory=Webhook)
    image: str = MISSING  # runs the webhook exit step


@dataclass
class PipelineConfig:
    base_dir: Optional[str] = MISSING
    pipeline: PipelineInfo = field(default_factory=PipelineInfo)
    #: the pipeline's run-time parameters; each one's type is that of the component inputs it feeds
    params: dict[str, Any] = MISSING
    steps: dict[str, Step] = MISSING
    caching: bool = MISSING
    sweep: Sweep = field(default_factory=Sweep)
    register: Register = field(default_factory=Register)
    deploy: Deploy = field(default_factory=Deploy)
    gcp: Gcp = field(default_factory=Gcp)
    images: Images = field(default_factory=Images)
    backend: str = MISSING
    kfp: Kfp = field(default_factory=Kfp)
    local: Local = field(default_factory=Local)
    notify: Notify = field(default_factory=Notify)
    #: the environment (configs/env/NAME.yaml) chosen with ``env=NAME``; set by load_config, never written
    env: Optional[str] = None


BACKENDS: tuple[str, ...] = ("vertex", "kfp")

__all__ = [
    "BACKENDS",
    "Deploy",
    "Notify",
    "PipelineConfig",
    "Promote",
    "Register",
    "Resources",
    "Scheduling",
    "Select",
    "Step",
    "Sweep",
    "Webhook",
]
