"""A sweep's trials as Vertex AI Experiment runs: what the selection step is told when ``gcp.experiment`` is set.

``submit`` files the pipeline run under the experiment (:mod:`pipeline_sdk.submit.vertex.experiment`); the
trials live inside that one run, so the sweep step that declares the :data:`EXPERIMENT_INPUTS` (the
``select-best`` component does) records each trial as an Experiment run of its own, with its swept parameters
and its metrics. The compiler fills those inputs as constants: the experiment, where it lives, and the
pipeline job's name as the backend resolves ``{{$.pipeline_job_name}}`` at run time (the trial runs are named
after it, so a retried step finds its own runs again). On ``backend=kfp``, or without an experiment, they
are empty and nothing is recorded: Vertex AI Experiments belong to Vertex AI.
"""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig

from pipeline_sdk.errors import ConfigError

#: String inputs of a sweep step that the compiler fills from ``gcp`` when the component declares them
EXPERIMENT_INPUTS = ("experiment", "project", "location", "api_endpoint", "pipeline_job")


def experiment_inputs(cfg: DictConfig, key: str, declared: dict[str, Any], wired: set[str]) -> dict[str, str]:
    """The :data:`EXPERIMENT_INPUTS` that a sweep step's component ``declared`` and its ``key`` entry left
    unwired (``wired``: the inputs it feeds itself), for ``gcp.experiment``.

    Empty when the component declares no ``experiment`` input (a selection component of your own, or a
    release step); all ``''`` (record nothing) when no experiment is set or on ``backend=kfp``. They are
    passed even then: kfp's ``ignore_upstream_failure``, which a sweep step gets, reads an argument for
    every declared input (kfp 2.17 ``dsl/pipeline_task.py``).
    """
    from kfp import dsl

    if "experiment" not in declared:
        return {}
    recording = bool(cfg.gcp.experiment) and cfg.backend == "vertex"
    values = {
        "experiment": str(cfg.gcp.experiment or ""),
        "project": str(cfg.gcp.project or ""),
        "location": str(cfg.gcp.region),
        "api_endpoint": str(cfg.gcp.api_endpoint or ""),
        # resolved at run time by the backend (docs/vertex-behaviour.md X3); locally to the run's name
        "pipeline_job": dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
    }
    constants = {}
    for name in EXPERIMENT_INPUTS:
        if name not in declared or name in wired:
            continue
        if declared[name].type != "String":
            raise ConfigError(
                f"{key}.inputs.{name}: filled from gcp.experiment, so it must be a String input"
            )
        constants[name] = values[name] if recording else ""
    return constants


__all__ = ["EXPERIMENT_INPUTS", "experiment_inputs"]
