"""Load configs/pipeline.yaml with Hydra's compose API, apply overrides, validate.

The config directory is, in order: the ``config_dir`` argument, ``$PIPELINE_SDK_CONFIG_DIR``, or the
nearest ``configs/`` directory holding ``pipeline.yaml`` from the current directory upwards. Relative
paths in the config (``steps.*.component``, ``images.lock_file``, ``local.root``) are resolved against
``base_dir``, which defaults to the config directory's parent (the repository root).
"""

from __future__ import annotations

import os
import re
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

from pipeline_sdk.config_positions import locate, yaml_error_message
from pipeline_sdk.config_schema import BACKENDS, PipelineConfig
from pipeline_sdk.environments import GROUP as ENV_GROUP
from pipeline_sdk.environments import chosen, environment_file, not_selectable, unknown_environment
from pipeline_sdk.errors import ConfigError, one_line
from pipeline_sdk.notifications import notify_problems
from pipeline_sdk.params import escape_interpolations
from pipeline_sdk.tensorboard import tensorboard_problems

CONFIG_NAME = "pipeline"
CONFIG_DIR_ENV = "PIPELINE_SDK_CONFIG_DIR"
# Vertex AI pipeline names / KFP pipeline names: lowercase letters, digits and dashes.
_PIPELINE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,127}$")
#: id(loaded config) -> where its keys were written (see located_errors); by identity, since configs
#: compare by value (and a NaN makes a config unequal to itself)
_WHERE: dict[int, Callable[[str], str]] = {}
_KEY = re.compile(r"^[A-Za-z_][\w-]*(\.[\w-]+)*$")
_PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_STEP_NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
# task names generated beside the steps': kfp's control-flow groups (for-loop-2, condition-3,
# exit-handler-1) in the same DAG, and the local runner's sweep trials (<step>-trial-<N>)
_GENERATED_NAME = re.compile(r"^(for-loop|condition|condition-branches|exit-handler)-\d+$|-trial-\d+$")
_SURROGATE = re.compile("[\ud800-\udfff]")


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
    config_file = directory / f"{CONFIG_NAME}.yaml"
    overrides = list(overrides)
    layers: list[Path] = []  # the chosen environment's file, once known

    def where(key: str) -> str:
        return locate(key, config_file, overrides, layers)

    composed, choice = _compose(directory, overrides, where)
    environment = chosen(directory, choice, overrides)
    if environment is not None:
        layers.append(environment_file(directory, environment))
    try:
        cfg = OmegaConf.merge(OmegaConf.structured(PipelineConfig), composed)
        assert isinstance(cfg, DictConfig)
        cfg.env = environment
        _keep_params_literal(cfg)
        OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)  # surface interpolation errors now
    except OmegaConfBaseException as e:
        raise ConfigError(_omegaconf_message(e, where)) from None
    problems = _text_problems(OmegaConf.to_container(cfg, resolve=False), "") or _value_problems(cfg)
    if problems:
        raise ConfigError("; ".join(f"{where(key)}: {key}: {message}" for key, message in problems))
    base = Path(cfg.base_dir).expanduser() if cfg.base_dir else directory.parent
    cfg.base_dir = str((directory.parent / base).resolve())
    OmegaConf.set_readonly(cfg, True)
    OmegaConf.set_struct(cfg, True)
    _WHERE[id(cfg)] = where
    weakref.finalize(cfg, _WHERE.pop, id(cfg), None)
    return cfg


@contextmanager
def located_errors(cfg: DictConfig) -> Iterator[None]:
    """Prefix a :class:`ConfigError` that starts with a key (``steps.train.inputs.x: ...``) with the
    override or ``FILE:LINE:COL`` that set the key in ``cfg``."""
    try:
        yield
    except ConfigError as e:
        key = str(e).split(":", 1)[0]
        where = _WHERE.get(id(cfg))
        if where is None or not _KEY.match(key):
            raise
        raise type(e)(f"{where(key)}: {e}") from None


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


def _compose(
    config_dir: Path, overrides: list[str], where: Callable[[str], str]
) -> tuple[DictConfig, str | None]:
    """The composed config, without Hydra's own node, and the environment it chose (None without one)."""
    import yaml
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException, MissingConfigException
    from omegaconf import open_dict, read_write

    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(config_dir), version_base=None, job_name="pipeline-sdk"):
            # the Hydra node is asked for only to read which environment the defaults list chose
            cfg = compose(config_name=CONFIG_NAME, overrides=overrides, return_hydra_config=True)
        choice = cfg.hydra.runtime.choices.get(ENV_GROUP)
        with read_write(cfg), open_dict(cfg):
            del cfg["hydra"]
        return cfg, None if choice is None else str(choice)
    except MissingConfigException as e:
        missing = str(getattr(e, "missing_cfg_file", "") or "")
        if missing.startswith(f"{ENV_GROUP}/"):
            raise unknown_environment(config_dir, missing.split("/", 1)[1], overrides) from None
        raise ConfigError(_hydra_message(e, where)) from None
    except HydraException as e:
        if f"Could not override '{ENV_GROUP}'" in str(e):
            raise not_selectable(config_dir, overrides) from None
        raise ConfigError(_hydra_message(e, where)) from None
    except OmegaConfBaseException as e:
        raise ConfigError(_omegaconf_message(e, where)) from None
    except yaml.YAMLError as e:
        raise ConfigError(yaml_error_message(e)) from None
    except ValueError as e:  # Hydra's own checks of an override's value, e.g. `env=null`
        raise ConfigError(one_line(e)) from None
    finally:
        GlobalHydra.instance().clear()


def _hydra_message(error: BaseException, where: Callable[[str], str]) -> str:
    """Hydra's message on one line; an unknown key is named as such."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and len(chain) < 8:
        chain.append(current)
        current = current.__cause__
    if isinstance(chain[-1], (ConfigAttributeError, ConfigKeyError)):
        return _omegaconf_message(chain[-1], where)
    parts: list[str] = []
    for item in chain:
        text = _omegaconf_message(item, where) if isinstance(item, OmegaConfBaseException) else one_line(item)
        if text and text not in parts:
            parts.append(text)
    return ": ".join(parts)


def _omegaconf_message(error: BaseException, where: Callable[[str], str]) -> str:
    """``WHERE: full.key: message`` from an OmegaConf error, without its multi-line context dump."""
    key = getattr(error, "full_key", None)
    if isinstance(error, (ConfigAttributeError, ConfigKeyError)) and key:
        return (
            f"{where(key)}: unknown config key {key!r}: the keys are those in configs/pipeline.yaml "
            "(add an entry to a mapping such as gcp.labels with +KEY=VALUE)"
        )
    message = str(error).splitlines()[0].strip() if str(error) else type(error).__name__
    return f"{where(key)}: {key}: {message}" if key else message


def _text_problems(node: object, key: str) -> list[tuple[str, str]]:
    """Every configured text must be Unicode that can be written out: no lone surrogates (undecodable bytes
    from the command line)."""
    if isinstance(node, dict):
        return [
            p
            for name, value in node.items()
            for p in _text_problems(value, f"{key}.{name}" if key else str(name))
        ]
    if isinstance(node, list):
        return [p for index, value in enumerate(node) for p in _text_problems(value, f"{key}[{index}]")]
    if isinstance(node, str) and _SURROGATE.search(node):
        return [(key, f"{node!r} is not valid text (bytes that are not UTF-8?)")]
    return []


def _step_name_problem(name: str) -> str | None:
    if not _STEP_NAME.match(name):
        return "step names are lowercase letters, digits and dashes"
    if _GENERATED_NAME.search(name):
        return (
            f"{name!r} has the form of a generated task name (for-loop-N, condition-N, exit-handler-N, "
            "STEP-trial-N) and would collide with one; rename the step"
        )
    return None


def _value_problems(cfg: DictConfig) -> list[tuple[str, str]]:
    """Checks that the types alone do not express, as (key, message)."""
    problems: list[tuple[str, str]] = []
    if not _PIPELINE_NAME.match(cfg.pipeline.name):
        problems.append(
            (
                "pipeline.name",
                f"{cfg.pipeline.name!r} must be lowercase letters, digits and dashes, "
                "starting with a letter (at most 128 characters)",
            )
        )
    for name, value in cfg.params.items():
        if not _PARAM_NAME.match(str(name)):
            problems.append((f"params.{name}", "parameter names are letters, digits and underscores"))
        elif isinstance(value, (DictConfig, ListConfig)):
            problems.append(
                (f"params.{name}", "a pipeline parameter is a single value (string, number, bool)")
            )
    for prefix, steps in (("steps", cfg.steps), ("sweep.steps", cfg.sweep.steps)):
        for name, step in steps.items():
            problems += _step_problems(f"{prefix}.{name}", str(name), step)
            if cfg.backend == "vertex":
                problems += _accelerator_count_problems(f"{prefix}.{name}", step)
    if cfg.sweep.max_trials < 1:
        problems.append(("sweep.max_trials", f"must be at least 1, got {cfg.sweep.max_trials}"))
    if cfg.sweep.max_parallel < 0:
        problems.append(("sweep.max_parallel", f"must be 0 (no limit) or more, got {cfg.sweep.max_parallel}"))
    select = cfg.sweep.select
    if select.goal not in ("maximize", "minimize"):
        problems.append(("sweep.select.goal", f"must be maximize or minimize, got {select.goal!r}"))
    problems += _metric_problems("sweep.select.metric", select.metric)
    problems += _release_problems(cfg)
    problems += tensorboard_problems(cfg)
    problems += notify_problems(cfg)
    if cfg.local.max_processes is not None and cfg.local.max_processes < 1:
        problems.append(
            ("local.max_processes", f"must be at least 1 (or null), got {cfg.local.max_processes}")
        )
    if cfg.backend not in BACKENDS:
        problems.append(("backend", f"{cfg.backend!r} is not one of {', '.join(BACKENDS)}"))
    if not cfg.images.registry.strip():
        problems.append(("images.registry", "must not be empty"))
    return problems


def _metric_problems(key: str, metric: str) -> list[tuple[str, str]]:
    """A metric that ranks models: a key of metrics.json, and never a test one."""
    if not metric.strip():
        return [(key, "must name a key of the model's metrics.json")]
    if metric.startswith("test"):
        return [(key, f"{metric!r}: choosing by a test metric leaks the test set")]
    return []


def _release_problems(cfg: DictConfig) -> list[tuple[str, str]]:
    """The ``register`` and ``deploy`` settings (the steps after training) that the types do not check."""
    register, deploy = cfg.register, cfg.deploy
    problems = _metric_problems("register.promote.metric", register.promote.metric)
    if register.promote.margin < 0:
        problems.append(("register.promote.margin", f"must be 0 or more, got {register.promote.margin}"))
    if register.retries < 0:
        problems.append(("register.retries", f"must be non-negative, got {register.retries}"))
    if deploy.enabled and not register.enabled:
        problems.append(
            ("deploy.enabled", "deploys the version the register step makes: set register.enabled")
        )
    counts = {
        "deploy.accelerator_count": (deploy.accelerator_count, 0),
        "deploy.min_replicas": (deploy.min_replicas, 1),
        "deploy.retries": (deploy.retries, 0),
    }
    for key, (value, least) in counts.items():
        if value < least:
            problems.append((key, f"must be at least {least}, got {value}"))
    if deploy.max_replicas < deploy.min_replicas:
        problems.append(
            (
                "deploy.max_replicas",
                f"{deploy.max_replicas} is below deploy.min_replicas ({deploy.min_replicas})",
            )
        )
    if not 0 <= deploy.traffic_percentage <= 100:
        problems.append(("deploy.traffic_percentage", f"must be 0 to 100, got {deploy.traffic_percentage}"))
    return problems


def _step_problems(key: str, name: str, step: DictConfig) -> list[tuple[str, str]]:
    """A step's settings that the types alone do not check, keyed ``steps.NAME...`` or ``sweep.steps.NAME...``
    as the user wrote them."""
    from pipeline_sdk.custom_job import DURATION, STRATEGIES

    res, scheduling = step.resources, step.scheduling
    problems = [(key, problem) for problem in [_step_name_problem(name)] if problem]
    if step.retries < 0:
        problems.append((f"{key}.retries", f"must be non-negative, got {step.retries}"))
    if res.accelerator_count < 0:
        problems.append(
            (f"{key}.resources.accelerator_count", f"must be non-negative, got {res.accelerator_count}")
        )
    if res.replica_count < 1:
        problems.append(
            (f"{key}.resources.replica_count", f"{res.replica_count} is not a number of machines (1 or more)")
        )
    if (scheduling.strategy or "STANDARD") not in STRATEGIES:
        problems.append(
            (
                f"{key}.scheduling.strategy",
                f"{scheduling.strategy!r} is not one of {', '.join(STRATEGIES)} (or null)",
            )
        )
    if scheduling.timeout is not None and not DURATION.match(str(scheduling.timeout)):
        problems.append(
            (
                f"{key}.scheduling.timeout",
                f"{scheduling.timeout!r} is not a duration in seconds such as '86400s'",
            )
        )
    return problems


def _accelerator_count_problems(key: str, step: DictConfig) -> list[tuple[str, str]]:
    """A GPU count no Vertex AI machine offers, for a plain step: Vertex AI runs a plain task as a CustomJob
    on one machine too, so the machine table applies to it. A step with CustomJob settings is checked with
    its machine type when it is compiled (:func:`pipeline_sdk.custom_job.custom_job_settings`); accelerator
    types the table does not know are left to the accelerator-type check."""
    from pipeline_sdk.accelerators import offered_counts
    from pipeline_sdk.custom_job import wants_custom_job

    accelerator, count = step.resources.accelerator_type, step.resources.accelerator_count
    if not accelerator or count <= 0 or wants_custom_job(step):
        return []
    offered = offered_counts(str(accelerator))
    if not offered or count in offered:
        return []
    return [
        (
            f"{key}.resources.accelerator_count",
            f"no Vertex AI machine holds {count} x {accelerator} (counts offered: {', '.join(map(str, offered))})",
        )
    ]


__all__ = ["CONFIG_DIR_ENV", "find_config_dir", "load_config", "located_errors", "resolve_path"]
