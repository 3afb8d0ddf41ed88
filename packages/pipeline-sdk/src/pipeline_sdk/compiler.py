"""Compile the pipeline that configs/pipeline.yaml describes to a KFP v2 pipeline spec.

``compile_pipeline(cfg, output)`` lints and loads the steps' component YAMLs, sets their images from the
installed package versions, checks the steps and parameters (:mod:`pipeline_sdk.pipeline_shape`), makes
every String parameter value reach its Hydra app verbatim (:mod:`pipeline_sdk.params`), and writes YAML
(or JSON when ``output`` ends in ``.json``) atomically, verified to hold exactly what kfp built
(:mod:`pipeline_sdk.pipeline_file`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from pipeline_sdk.accelerators import validate_accelerator_type
from pipeline_sdk.components import component_paths, lint_components, load_components
from pipeline_sdk.config import located_errors
from pipeline_sdk.params import parameter_uses, wire_values
from pipeline_sdk.pipeline_file import write_pipeline_file
from pipeline_sdk.pipeline_shape import build_pipeline, parameter_types, parameter_values, plan_steps


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


def compile_pipeline(cfg: DictConfig, output: Path) -> CompiledPipeline:
    """Compile the pipeline described by ``cfg`` to ``output`` (``.json`` → JSON, otherwise YAML)."""
    with located_errors(cfg):
        return _compile(cfg, Path(output))


def _compile(cfg: DictConfig, output: Path) -> CompiledPipeline:
    from google.protobuf import json_format

    paths = component_paths(cfg)
    warnings = lint_components(list(dict.fromkeys(paths.values())))
    components = load_components(cfg, paths)
    plans = plan_steps(cfg, components)
    for plan in plans:
        res = plan.settings.resources
        if res.accelerator_type and res.accelerator_count > 0:
            validate_accelerator_type(res.accelerator_type, f"steps.{plan.name}.resources.accelerator_type")

    types = parameter_types(cfg, plans)
    raw = parameter_values(cfg, types)
    draft = build_pipeline(cfg, plans, raw, types)
    wired = wire_values(raw, parameter_uses(json_format.MessageToDict(draft.pipeline_spec)))
    spec = write_pipeline_file(build_pipeline(cfg, plans, wired, types), Path(output))
    images = {c.package or c.key: c.image for c in components.values()}
    return CompiledPipeline(Path(output), spec, wired, raw, images, warnings)


__all__ = ["CompiledPipeline", "compile_pipeline"]
