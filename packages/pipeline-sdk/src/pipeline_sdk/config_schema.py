"""The typed schema of configs/pipeline.yaml.

:func:`pipeline_sdk.config.load_config` merges the composed YAML into these dataclasses, so a key that
is not declared here, or a value of the wrong type, is a :class:`~pipeline_sdk.errors.ConfigError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from omegaconf import MISSING

# OmegaConf 2.3 structured configs need typing.Optional (it does not read `X | None`).
# ruff: noqa: UP045


@dataclass
class PipelineInfo:
    name: str = MISSING
    description: str = ""


@dataclass
class Params:
    """The pipeline's run-time parameters and their defaults."""

    dataset: str = "fashion_mnist"
    epochs: int = 5
    learning_rate: float = 0.002
    batch_size: int = 256
    seed: int = 42
    experiment: str = "fashion_mnist_cnn"


@dataclass
class Components:
    data_prepare: str = "configs/components/data_prepare.yaml"
    train: str = "configs/components/train.yaml"


@dataclass
class Gcp:
    project: Optional[str] = None
    region: str = "us-central1"
    pipeline_root: Optional[str] = None
    service_account: Optional[str] = None
    network: Optional[str] = None
    labels: dict[str, str] = field(default_factory=dict)
    experiment: Optional[str] = None
    api_endpoint: Optional[str] = None
    encryption_spec_key_name: Optional[str] = None


@dataclass
class Images:
    registry: str = MISSING
    lock_file: str = "images.lock.json"


@dataclass
class Resources:
    accelerator_type: Optional[str] = "NVIDIA_L4"
    accelerator_count: int = 1
    cpu: Optional[str] = "8"
    memory: Optional[str] = "32G"


@dataclass
class Train:
    resources: Resources = field(default_factory=Resources)


@dataclass
class Retries:
    data_prepare: int = 0
    train: int = 0


@dataclass
class Kfp:
    host: Optional[str] = None
    experiment: str = "Default"
    namespace: Optional[str] = None


@dataclass
class Local:
    root: str = "local_outputs"


@dataclass
class PipelineConfig:
    base_dir: Optional[str] = None
    pipeline: PipelineInfo = field(default_factory=PipelineInfo)
    params: Params = field(default_factory=Params)
    components: Components = field(default_factory=Components)
    gcp: Gcp = field(default_factory=Gcp)
    images: Images = field(default_factory=Images)
    train: Train = field(default_factory=Train)
    caching: bool = True
    retries: Retries = field(default_factory=Retries)
    backend: str = "vertex"
    kfp: Kfp = field(default_factory=Kfp)
    local: Local = field(default_factory=Local)


BACKENDS: tuple[str, ...] = ("vertex", "kfp")

__all__ = ["BACKENDS", "PipelineConfig"]
