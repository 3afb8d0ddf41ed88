"""Compile the training pipeline (data-prepare → train) to a KFP v2 pipeline spec.

``compile_pipeline(cfg, output)`` lints and loads the component YAMLs, sets their images from the
installed package versions, wires the pipeline parameters, applies the train task's resources, caching
and retries, and writes YAML (or JSON when ``output`` ends in ``.json``) atomically.
"""

# No `from __future__ import annotations`: kfp reads the pipeline function's annotations as types.
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from pipeline_sdk.accelerators import validate_accelerator_type
from pipeline_sdk.components import LoadedComponent, component_paths, lint_components, load_components
from pipeline_sdk.errors import CompileError, ConfigError
from pipeline_sdk.params import parameter_uses, wire_values


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
    from kfp.compiler import Compiler

    paths = component_paths(cfg)
    warnings = lint_components(list(paths.values()))
    components = load_components(cfg, paths)
    _validate_resources(cfg)

    raw = dict(OmegaConf.to_container(cfg.params, resolve=True))  # type: ignore[arg-type]
    draft = _pipeline(cfg, components, raw)
    wired = wire_values(raw, parameter_uses(_spec_dict(draft)))
    pipeline = _pipeline(cfg, components, wired)

    output = Path(output)
    suffix = ".json" if output.suffix == ".json" else ".yaml"
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{output.stem}.", suffix=suffix, dir=output.parent)
    except OSError as e:
        raise CompileError(f"cannot write {output}: {e.strerror or e}") from None
    os.close(fd)
    try:
        try:
            Compiler().compile(pipeline, package_path=tmp)
        except (ValueError, TypeError) as e:
            raise CompileError(f"kfp cannot compile the pipeline: {e}") from None
        spec = _load_spec(Path(tmp))
        try:
            os.replace(tmp, output)
        except OSError as e:
            raise CompileError(f"cannot write {output}: {e.strerror or e}") from None
    finally:
        Path(tmp).unlink(missing_ok=True)
    images = {c.package or c.key: c.image for c in components.values()}
    return CompiledPipeline(output, spec, wired, raw, images, warnings)


def _validate_resources(cfg: DictConfig) -> None:
    res = cfg.train.resources
    if res.accelerator_type and res.accelerator_count > 0:
        validate_accelerator_type(res.accelerator_type)


def _pipeline(cfg: DictConfig, components: dict[str, LoadedComponent], values: dict[str, Any]) -> Any:
    """The kfp pipeline (a GraphComponent) with ``values`` as parameter defaults."""
    from kfp import dsl

    data_prepare = components["data_prepare"].factory
    train = components["train"].factory

    @dsl.pipeline(name=cfg.pipeline.name, description=cfg.pipeline.description or None)
    def training_pipeline(
        dataset: str = values["dataset"],
        epochs: int = values["epochs"],
        learning_rate: float = values["learning_rate"],
        batch_size: int = values["batch_size"],
        seed: int = values["seed"],
        experiment: str = values["experiment"],
    ) -> None:
        prepared = data_prepare(dataset_name=dataset)
        prepared.set_caching_options(cfg.caching)
        if cfg.retries.data_prepare:
            prepared.set_retry(num_retries=cfg.retries.data_prepare)

        trained = train(
            dataset=prepared.outputs["dataset"],
            epochs=epochs,
            learning_rate=learning_rate,
            batch_size=batch_size,
            seed=seed,
            experiment=experiment,
        )
        trained.set_caching_options(cfg.caching)
        if cfg.retries.train:
            trained.set_retry(num_retries=cfg.retries.train)
        _apply_resources(trained, cfg.train.resources)

    return training_pipeline


def _apply_resources(task: Any, res: DictConfig) -> None:
    """Accelerator, CPU and memory limits on ``task``; kfp's own checks become config errors."""
    settings = []
    if res.accelerator_type and res.accelerator_count > 0:
        settings += [
            ("accelerator_type", task.set_accelerator_type, res.accelerator_type),
            ("accelerator_count", task.set_accelerator_limit, res.accelerator_count),
        ]
    if res.cpu is not None:
        settings.append(("cpu", task.set_cpu_limit, str(res.cpu)))
    if res.memory is not None:
        settings.append(("memory", task.set_memory_limit, str(res.memory)))
    for key, setter, value in settings:
        try:
            setter(value)
        except ValueError as e:
            raise ConfigError(f"train.resources.{key}: {value!r}: {e}") from None


def _spec_dict(pipeline: Any) -> dict[str, Any]:
    from google.protobuf import json_format

    return json_format.MessageToDict(pipeline.pipeline_spec)


def _load_spec(path: Path) -> dict[str, Any]:
    """The compiled file as a dict (first YAML document: the pipeline spec)."""
    text = path.read_text()
    if path.suffix == ".json":
        return json.loads(text)
    import yaml

    return next(iter(yaml.safe_load_all(text)))


__all__ = ["CompiledPipeline", "compile_pipeline"]
