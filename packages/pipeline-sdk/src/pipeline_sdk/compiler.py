"""Compile the pipeline that configs/pipeline.yaml describes to a KFP v2 pipeline spec.

``compile_pipeline(cfg, output)`` lints and loads the steps' component YAMLs, sets their images from the
installed package versions, checks the steps and parameters (:mod:`pipeline_sdk.pipeline_shape`), makes
every String parameter value reach its Hydra app verbatim (:mod:`pipeline_sdk.params`), and writes YAML
(or JSON when ``output`` ends in ``.json``) atomically, verified to hold exactly what kfp built
(:mod:`pipeline_sdk.pipeline_file`). With a sweep (:mod:`pipeline_sdk.sweep`) the trials' values are
checked and escaped the same way and become the items of the pipeline's ParallelFor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from pipeline_sdk.accelerators import validate_accelerator_type
from pipeline_sdk.component_loader import component_paths, lint_components, load_components
from pipeline_sdk.config import located_errors
from pipeline_sdk.errors import ConfigError
from pipeline_sdk.parameter_types import checked_values, parameter_values
from pipeline_sdk.params import parameter_uses, wire_values
from pipeline_sdk.pipeline_file import write_pipeline_file
from pipeline_sdk.pipeline_shape import (
    build_pipeline,
    parameter_types,
    plan_steps,
    step_entries,
)
from pipeline_sdk.release_steps import serving_images
from pipeline_sdk.sweep import SweepPlan


@dataclass(frozen=True)
class CompiledPipeline:
    """A compiled pipeline file and what went into it."""

    path: Path
    spec: dict[str, Any]
    #: run-time parameter values from ``cfg.params``, ready to hand to KFP/Vertex: String values are
    #: escaped for the Hydra-quoted args they land in (see :mod:`pipeline_sdk.params`)
    parameter_values: dict[str, Any]
    #: ``cfg.params`` as configured (what the applications receive)
    raw_parameter_values: dict[str, Any]
    #: package (distribution) → image reference
    images: dict[str, str]
    #: hydra-yaml-lint warnings for the component YAMLs
    warnings: list[str] = field(default_factory=list)
    #: the sweep compiled into the pipeline; its parameters are then not in ``parameter_values``
    sweep: SweepPlan | None = None


def compile_pipeline(cfg: DictConfig, output: Path, sweep: SweepPlan | None = None) -> CompiledPipeline:
    """Compile the pipeline described by ``cfg`` (and ``sweep``) to ``output`` (``.json`` → JSON, else YAML)."""
    with located_errors(cfg):
        return _compile(cfg, Path(output), sweep)


def _compile(cfg: DictConfig, output: Path, sweep: SweepPlan | None) -> CompiledPipeline:
    from google.protobuf import json_format

    paths = component_paths(cfg, step_entries(cfg, sweep is not None))
    warnings = lint_components(list(dict.fromkeys(path for _, path in paths.values())))
    components = load_components(cfg, paths)
    plans = plan_steps(cfg, components, sweep)
    accelerators = [(p.settings.resources, f"{p.key}.resources.accelerator_type") for p in plans]
    if cfg.deploy.enabled:
        accelerators.append((cfg.deploy, "deploy.accelerator_type"))
    for settings, key in accelerators:
        if settings.accelerator_type and settings.accelerator_count > 0:
            validate_accelerator_type(settings.accelerator_type, key)

    types = parameter_types(cfg, plans)
    raw = parameter_values(cfg, types)
    trials = (
        [_trial_values(sweep, number, types) for number in range(1, len(sweep.trials) + 1)] if sweep else None
    )
    if sweep:
        raw = {name: value for name, value in raw.items() if name not in sweep.parameters}
    draft = build_pipeline(cfg, plans, raw, types, trials)
    uses = parameter_uses(json_format.MessageToDict(draft.pipeline_spec))
    wired = wire_values(raw, uses)
    wired_trials = (
        [
            _of_trial(sweep, number, lambda t=trial: wire_values(t, uses))
            for number, trial in enumerate(trials, 1)
        ]
        if sweep and trials
        else None
    )
    spec = write_pipeline_file(build_pipeline(cfg, plans, wired, types, wired_trials), Path(output))
    images = {c.package or c.name: c.image for c in components.values()}
    images.update(serving_images(cfg, plans))
    return CompiledPipeline(Path(output), spec, wired, raw, images, warnings, sweep)


def _trial_values(sweep: SweepPlan, number: int, types: dict[str, type]) -> dict[str, Any]:
    """Trial ``number``'s swept values, checked against the parameters' types."""
    return _of_trial(sweep, number, lambda: checked_values(sweep.trials[number - 1], types))


def _of_trial(sweep: SweepPlan, number: int, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``work()`` for trial ``number``; its error names the trial (the value came from -m, not the file)."""
    try:
        return work()
    except ConfigError as e:
        raise type(e)(f"sweep trial {number} ({sweep.describe(number)}): {e}") from None


__all__ = ["CompiledPipeline", "compile_pipeline"]
