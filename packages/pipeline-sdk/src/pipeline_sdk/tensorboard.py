"""Vertex AI TensorBoard for a CustomJob step: the ``tensorboard`` and ``baseOutputDirectory`` it asks for.

A step whose ``tensorboard`` names an instance (``projects/P/locations/L/tensorboards/ID``; configs/pipeline.yaml
gives ``train`` the environment's ``gcp.tensorboard``) runs as a Vertex AI CustomJob
(:mod:`pipeline_sdk.custom_job`) with the CustomJobSpec fields ``tensorboard`` and
``baseOutputDirectory.outputUriPrefix``. Vertex AI then sets ``AIP_TENSORBOARD_LOG_DIR =
<baseOutputDirectory>/logs/`` in the job and uploads what is written there (the trainer writes there:
``trainer.vertex_tensorboard``). The instance must be in the job's region, and the job must run as a
service account it can write with (CustomJobSpec.tensorboard; aiplatform's ``CustomJob.run``:
"``service_account`` is required with provided ``tensorboard``").
"""

from __future__ import annotations

import re

from omegaconf import DictConfig, OmegaConf

TENSORBOARD = re.compile(
    r"^projects/(?P<project>[^/\s]+)/locations/(?P<location>[^/\s]+)/tensorboards/[^/\s]+$"
)
# a gs:// prefix that also survives being pasted into the CustomJob payload's JSON text (custom_job.py)
GCS_PREFIX = re.compile(r'^gs://[a-z0-9][a-z0-9._-]{1,221}[a-z0-9](/[^\s"\\]*)?$')
# Vertex AI resolves these per run and per task (kfp.dsl PIPELINE_JOB_ID_PLACEHOLDER,
# PIPELINE_TASK_ID_PLACEHOLDER): each run, and each sweep trial, gets a directory of its own, so
# TensorBoard never shows two jobs' event files as one run.
_PER_TASK = "{{$.pipeline_job_uuid}}/{step}-{{$.pipeline_task_uuid}}"


def default_base_output_directory(pipeline_root: str, step: str) -> str:
    """``<pipeline_root>/tensorboard/<run uuid>/<step>-<task uuid>``: a step's base output directory when
    its ``base_output_directory`` is null."""
    return f"{pipeline_root.rstrip('/')}/tensorboard/{_PER_TASK.replace('{step}', step)}"


def _instance_problems(key: str, value: str, region: str) -> list[tuple[str, str]]:
    match = TENSORBOARD.match(value)
    if not match:
        return [(key, f"{value!r} is not a TensorBoard instance (projects/P/locations/L/tensorboards/ID)")]
    if match["location"] != region:
        return [
            (
                key,
                f"the TensorBoard instance is in {match['location']} but the pipeline runs in {region} "
                "(gcp.region); Vertex AI uploads only to an instance in the job's region",
            )
        ]
    return []


def tensorboard_problems(cfg: DictConfig) -> list[tuple[str, str]]:
    """The TensorBoard settings (``gcp.tensorboard``, each step's ``tensorboard`` and
    ``base_output_directory``) that the types do not check, as (key, message)."""
    gcp = cfg.gcp
    problems = _instance_problems("gcp.tensorboard", gcp.tensorboard, gcp.region) if gcp.tensorboard else []
    for prefix, steps in (("steps", cfg.steps), ("sweep.steps", cfg.sweep.steps)):
        for name, step in steps.items():
            key = f"{prefix}.{name}"
            # a step reading ${gcp.tensorboard} is reported (once) under gcp.tensorboard
            source = (
                "gcp.tensorboard" if OmegaConf.is_interpolation(step, "tensorboard") else f"{key}.tensorboard"
            )
            if step.tensorboard and source != "gcp.tensorboard":
                problems += _instance_problems(source, step.tensorboard, gcp.region)
            if step.base_output_directory is not None and not GCS_PREFIX.match(step.base_output_directory):
                problems.append(
                    (
                        f"{key}.base_output_directory",
                        f"{step.base_output_directory!r} is not a gs://BUCKET/PATH prefix (no spaces or quotes)",
                    )
                )
            if not step.tensorboard:
                continue
            if not gcp.service_account:
                problems.append(
                    (
                        source,
                        "Vertex AI uploads TensorBoard logs only from a job that runs as a service account: "
                        "set gcp.service_account",
                    )
                )
            if step.base_output_directory is None and not gcp.pipeline_root:
                problems.append(
                    (
                        f"{key}.base_output_directory",
                        "null derives it from gcp.pipeline_root, which is null: set one of them (gs://...)",
                    )
                )
    return list(dict.fromkeys(problems))


__all__ = ["GCS_PREFIX", "TENSORBOARD", "default_base_output_directory", "tensorboard_problems"]
