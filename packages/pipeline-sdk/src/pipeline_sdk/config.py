"""Load configs/pipeline.yaml with Hydra's compose API, apply overrides, validate.

The config directory is, in order: the ``config_dir`` argument, ``$PIPELINE_SDK_CONFIG_DIR``, or the
nearest ``configs/`` directory holding ``pipeline.yaml`` from the current directory upwards. Relative
paths in the config (``components.*``, ``images.lock_file``, ``local.root``) are resolved against
``base_dir``, which defaults to the config directory's parent (the repository root).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

from pipeline_sdk.config_schema import BACKENDS, PipelineConfig
from pipeline_sdk.errors import ConfigError
from pipeline_sdk.params import escape_interpolations

CONFIG_NAME = "pipeline"
CONFIG_DIR_ENV = "PIPELINE_SDK_CONFIG_DIR"
# Vertex AI pipeline names / KFP pipeline names: lowercase letters, digits and dashes.
_PIPELINE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,127}$")


def find_config_dir(config_dir: Path | str | None = None) -> Path:
    """The directory holding ``pipeline.yaml`` (see the module docstring for the search order)."""
    explicit = config_dir if config_dir is not None else os.environ.get(CONFIG_DIR_ENV) or None
    if explicit is not None:
        path = Path(explicit).expanduser().resolve()
        if not (path / f"{CONFIG_NAME}.yaml").is_file():
            raise ConfigError(f"no {CONFIG_NAME}.yaml in config directory {path}")
        return path
    cwd = Path.cwd().resolve()
    for directory in (cwd, *cwd.parents):
        candidate = directory / "configs"
        if (candidate / f"{CONFIG_NAME}.yaml").is_file():
            return candidate
    raise ConfigError(
        f"no configs/{CONFIG_NAME}.yaml in {cwd} or its parents; pass --config-dir or set ${CONFIG_DIR_ENV}"
    )


def load_config(overrides: Sequence[str] = (), config_dir: Path | str | None = None) -> DictConfig:
    """Compose configs/pipeline.yaml with Hydra ``overrides``, check it against the schema, return it.

    The result is read-only, with ``base_dir`` set to an absolute path. Raises
    :class:`~pipeline_sdk.errors.ConfigError` for a missing file, an unknown key or a bad value.
    """
    directory = find_config_dir(config_dir)
    composed = _compose(directory, list(overrides))
    try:
        cfg = OmegaConf.merge(OmegaConf.structured(PipelineConfig), composed)
        assert isinstance(cfg, DictConfig)
        _keep_params_literal(cfg)
        OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)  # surface interpolation errors now
    except OmegaConfBaseException as e:
        raise ConfigError(_omegaconf_message(e)) from None
    base = Path(cfg.base_dir).expanduser() if cfg.base_dir else directory.parent
    cfg.base_dir = str((directory.parent / base).resolve())
    _check_values(cfg)
    OmegaConf.set_readonly(cfg, True)
    OmegaConf.set_struct(cfg, True)
    return cfg


def resolve_path(cfg: DictConfig, path: str | Path) -> Path:
    """``path`` made absolute against the config's ``base_dir`` (absolute paths are kept)."""
    return Path(cfg.base_dir) / Path(path).expanduser()


def _keep_params_literal(cfg: DictConfig) -> None:
    """Parameter values are data: ``${...}`` in a ``params`` string is text, never an interpolation."""
    raw = OmegaConf.to_container(cfg.params, resolve=False)
    assert isinstance(raw, dict)
    for key, value in raw.items():
        if isinstance(value, str) and "${" in value:
            cfg.params[key] = escape_interpolations(value)


def _compose(config_dir: Path, overrides: list[str]) -> DictConfig:
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException

    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(config_dir), version_base=None, job_name="pipeline-sdk"):
            return compose(config_name=CONFIG_NAME, overrides=overrides)
    except HydraException as e:
        raise ConfigError(_hydra_message(e)) from None
    except OmegaConfBaseException as e:
        raise ConfigError(_omegaconf_message(e)) from None
    finally:
        GlobalHydra.instance().clear()


def _hydra_message(error: BaseException) -> str:
    """Hydra's message on one line; an unknown key is named as such."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and len(chain) < 8:
        chain.append(current)
        current = current.__cause__
    if isinstance(chain[-1], (ConfigAttributeError, ConfigKeyError)):
        return _omegaconf_message(chain[-1])
    parts: list[str] = []
    for item in chain:
        text = (
            _omegaconf_message(item)
            if isinstance(item, OmegaConfBaseException)
            else " ".join(str(item).split())
        )
        if text and text not in parts:
            parts.append(text)
    return ": ".join(parts)


def _omegaconf_message(error: BaseException) -> str:
    """``full.key: message`` from an OmegaConf error, without its multi-line context dump."""
    key = getattr(error, "full_key", None)
    if isinstance(error, (ConfigAttributeError, ConfigKeyError)) and key:
        return (
            f"unknown config key {key!r}: the keys are those in configs/pipeline.yaml "
            "(add an entry to a mapping such as gcp.labels with +KEY=VALUE)"
        )
    message = str(error).splitlines()[0].strip() if str(error) else type(error).__name__
    return f"{key}: {message}" if key else message


def _check_values(cfg: DictConfig) -> None:
    """Checks that the types alone do not express; the first failure raises."""
    problems: list[str] = []
    if not _PIPELINE_NAME.match(cfg.pipeline.name):
        problems.append(
            f"pipeline.name: {cfg.pipeline.name!r} must be lowercase letters, digits and dashes, "
            "starting with a letter (at most 128 characters)"
        )
    p = cfg.params
    for key in ("epochs", "batch_size"):
        if p[key] < 1:
            problems.append(f"params.{key}: must be at least 1, got {p[key]}")
    if not p.learning_rate > 0:
        problems.append(f"params.learning_rate: must be positive, got {p.learning_rate}")
    if p.seed < 0:
        problems.append(f"params.seed: must be non-negative, got {p.seed}")
    res = cfg.train.resources
    if res.accelerator_count < 0:
        problems.append(
            f"train.resources.accelerator_count: must be non-negative, got {res.accelerator_count}"
        )
    for key in ("data_prepare", "train"):
        if cfg.retries[key] < 0:
            problems.append(f"retries.{key}: must be non-negative, got {cfg.retries[key]}")
    if cfg.backend not in BACKENDS:
        problems.append(f"backend: {cfg.backend!r} is not one of {', '.join(BACKENDS)}")
    if not cfg.images.registry.strip():
        problems.append("images.registry: must not be empty")
    if problems:
        raise ConfigError("; ".join(problems))


__all__ = ["CONFIG_DIR_ENV", "find_config_dir", "load_config", "resolve_path"]
