"""The steps after training: ``register`` and ``deploy`` in configs/pipeline.yaml become the pipeline's
``register-model`` and ``deploy-model`` steps.

They are steps like the configured ones (a component YAML, an input from another step's output), with two
differences: their other inputs are compiled in as constants from the configuration (``gcp.project``,
``gcp.region``, ``gcp.api_endpoint``, ``gcp.pipeline_root``, the serving image, the model and endpoint
settings), not pipeline
parameters; and in a sweep they run once after the trials, registering the selected model
(``register.sweep_model``) instead of a trial's. The programs behind them are in the
``hydra-vertex-model-registry`` package; an empty ``project`` makes them skip with one line, which is what
``pipeline-sdk run`` shows when no GCP project is configured.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from omegaconf import DictConfig, OmegaConf

from pipeline_sdk.config_schema import Step

REGISTER_STEP = "register-model"
DEPLOY_STEP = "deploy-model"
#: the package whose image serves a registered model (``register.serving_image`` null)
SERVING_PACKAGE = "hydra-vertex-serve"


def release_entries(cfg: DictConfig, sweeping: bool) -> dict[str, tuple[str, DictConfig]]:
    """Step name → (config key, step entry) for the enabled release steps, in run order."""
    entries: dict[str, tuple[str, DictConfig]] = {}
    register, deploy = cfg.register, cfg.deploy
    if register.enabled:
        model = register.sweep_model if sweeping else register.model
        entries[REGISTER_STEP] = ("register", _entry(register, {"model": model}))
    if deploy.enabled:
        entries[DEPLOY_STEP] = (
            "deploy",
            _entry(deploy, {"registered_model": f"{REGISTER_STEP}.outputs.registered_model"}),
        )
    return entries


def _entry(settings: DictConfig, inputs: dict[str, str]) -> DictConfig:
    step = Step(component=str(settings.component), inputs=inputs, retries=int(settings.retries))
    return OmegaConf.structured(step)


def release_constants(cfg: DictConfig, name: str) -> dict[str, Any]:
    """The inputs of release step ``name`` that the configuration fixes, by component input name."""
    where = {
        "project": cfg.gcp.project or "",
        "location": cfg.gcp.region,
        "api_endpoint": cfg.gcp.api_endpoint or "",
    }
    if name == REGISTER_STEP:
        register = cfg.register
        return {
            **where,
            # a local run's model is a local directory: the step copies it here first (Vertex AI reads a
            # model's files from Cloud Storage only)
            "staging_uri": cfg.gcp.pipeline_root or "",
            "model_name": register.model_name,
            "serving_image": _serving_image(cfg),
            "version_aliases": json.dumps(list(register.version_aliases)),
            "promote_alias": register.promote.alias or "",
            "promote_metric": register.promote.metric,
            "promote_margin": float(register.promote.margin),
            "labels": json.dumps(dict(register.labels), sort_keys=True),
        }
    deploy = cfg.deploy
    return {
        **where,
        "endpoint_name": deploy.endpoint_name,
        "machine_type": deploy.machine_type,
        "accelerator_type": deploy.accelerator_type or "",
        "accelerator_count": int(deploy.accelerator_count),
        "min_replicas": int(deploy.min_replicas),
        "max_replicas": int(deploy.max_replicas),
        "traffic_percentage": int(deploy.traffic_percentage),
    }


def serving_images(cfg: DictConfig, plans: Sequence[Any]) -> dict[str, str]:
    """``{SERVING_PACKAGE: reference}`` when the register step names this toolkit's serving image: the
    pipeline references it as it does the steps' images (submit checks that the registry holds it)."""
    register = [p for p in plans if p.name == REGISTER_STEP]
    if not register or cfg.register.serving_image:
        return {}
    return {SERVING_PACKAGE: register[0].constants["serving_image"]}


def _serving_image(cfg: DictConfig) -> str:
    from pipeline_sdk.component_loader import package_image

    if cfg.register.serving_image:
        return str(cfg.register.serving_image)
    return package_image(cfg, "register.serving_image", SERVING_PACKAGE)


__all__ = [
    "DEPLOY_STEP",
    "REGISTER_STEP",
    "SERVING_PACKAGE",
    "release_constants",
    "release_entries",
    "serving_images",
]
