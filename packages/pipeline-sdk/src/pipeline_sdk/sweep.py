"""``-m`` sweeps over pipeline parameters: Hydra's sweep grammar, expanded into trials.

``pipeline-sdk compile|run|submit -m params.learning_rate=0.002,0.004 params.batch_size=range(128,257,128)``
sweeps the way ``python app.py -m`` does: every override is parsed by Hydra's own override parser, each
sweep (comma list, ``choice()``, ``range()``, ``sort()``, ``shuffle()``) is enumerated by Hydra, and the
trials are the cartesian product in override order, as Hydra's basic sweeper orders its jobs. Each value is
read back the way a Hydra app would receive ``KEY=VALUE`` for that one trial, so a quoted ``'a,b'`` is the
single string ``a,b``. Only ``params.NAME`` keys can be swept: the trials differ in pipeline parameters,
everything else is one pipeline.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig

from pipeline_sdk.errors import ConfigError, UsageError, one_line

#: Vertex AI fails a dsl.Collected list of more than 100 artifacts ("Maximum number of artifacts
#: exceeded", kubeflow/kubeflow#7513), so the selection step could never receive a larger sweep
FAN_IN_LIMIT = 100


@dataclass(frozen=True)
class SweepPlan:
    """The trials of a sweep: the swept parameters and, per trial, their values (as configured)."""

    parameters: tuple[str, ...]
    trials: tuple[dict[str, Any], ...]
    metric: str = "val_accuracy"  # sweep.select.metric: what ranks the trials
    goal: str = "maximize"  # sweep.select.goal: maximize or minimize

    def describe(self, trial: int) -> str:
        """``learning_rate=0.002, batch_size=128`` for trial number ``trial`` (1-based)."""
        return ", ".join(f"{name}={self.trials[trial - 1][name]!r}" for name in self.parameters)


def load_with_sweep(
    overrides: Sequence[str], config_dir: str | None, multirun: bool
) -> tuple[DictConfig, SweepPlan | None]:
    """The pipeline config from the overrides that are not sweeps, and the sweep's trials (``-m``)."""
    from pipeline_sdk.config import load_config

    plain, sweeps = split_overrides(overrides, multirun)
    cfg = load_config(plain, config_dir)
    return cfg, expand_sweep(cfg, sweeps) if sweeps else None


def split_overrides(overrides: Sequence[str], multirun: bool) -> tuple[list[str], list[Any]]:
    """The overrides that configure the one pipeline, and the sweep overrides (Hydra ``Override`` objects).

    A sweep without ``-m`` is a usage error that says how to sweep, or how to pass the value as one string.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    parser = OverridesParser.create()
    plain: list[str] = []
    plain_keys: dict[str, str] = {}
    sweeps: list[Any] = []
    for text in overrides:
        try:
            override = parser.parse_override(text)
        except HydraException as e:
            if multirun:  # it may have been meant as a sweep: Hydra's reason, not "-m needs a sweep"
                raise ConfigError(f"{text!r}: {one_line(e)}") from None
            plain.append(text)  # load_config reports Hydra's own message for it
            continue
        if not override.is_sweep_override():
            plain.append(text)
            plain_keys[override.key_or_group] = text
        elif multirun:
            sweeps.append(override)
        else:
            key = override.get_key_element()
            raise UsageError(
                f"{text!r} is a sweep over several values: add -m to run one trial per value, or quote "
                f"the value to pass it as one string ({key}='...')"
            )
    if multirun and not sweeps:
        raise UsageError("-m needs at least one sweep, e.g. params.learning_rate=0.002,0.004")
    for override in sweeps:
        if override.key_or_group in plain_keys:
            raise ConfigError(
                f"{override.key_or_group} is both swept ({override.input_line!r}) and set "
                f"({plain_keys[override.key_or_group]!r}); keep one"
            )
    return plain, sweeps


def expand_sweep(cfg: DictConfig, sweeps: Sequence[Any]) -> SweepPlan:
    """The trials of ``sweeps`` (from :func:`split_overrides`) over ``cfg.params``, checked."""
    names: list[str] = []
    sizes: list[int] = []
    for override in sweeps:
        text = override.input_line or override.get_key_element()
        name = _parameter_name(cfg, override, text)
        if name in names:
            raise ConfigError(f"params.{name}: swept twice ({text!r}); give all its values in one sweep")
        names.append(name)
        sizes.append(_size(override, text, max(FAN_IN_LIMIT, cfg.sweep.max_trials)))
    # counted before any value is made: range(0,100000000) is refused at once, not after 4 GB of values
    count = math.prod(sizes)
    if count > FAN_IN_LIMIT:
        raise ConfigError(
            f"sweep: {count} trials; Vertex AI collects at most {FAN_IN_LIMIT} outputs into the selection "
            "step's list, so split the sweep into several runs"
        )
    if count > cfg.sweep.max_trials:
        shown = " x ".join(str(size) for size in sizes) + " = " if len(sizes) > 1 else ""
        raise ConfigError(
            f"sweep.max_trials: the sweep has {shown}{count} trials, more than sweep.max_trials="
            f"{cfg.sweep.max_trials}; sweep fewer values or raise sweep.max_trials"
        )
    columns = [_values(override, override.input_line or override.get_key_element()) for override in sweeps]
    trials = tuple(dict(zip(names, combo, strict=True)) for combo in itertools.product(*columns))
    select = cfg.sweep.select
    return SweepPlan(tuple(names), trials, str(select.metric), str(select.goal))


def _parameter_name(cfg: DictConfig, override: Any, text: str) -> str:
    key = override.key_or_group
    if override.package is not None or override.is_delete() or not key.startswith("params."):
        raise ConfigError(
            f"{text!r}: only pipeline parameters (params.NAME) can be swept; set other keys once, "
            "without a sweep"
        )
    name = key[len("params.") :]
    if name not in cfg.params:
        known = ", ".join(str(k) for k in cfg.params)
        raise ConfigError(f"{text!r}: no pipeline parameter params.{name} (parameters: {known})")
    if override.is_add() or override.is_force_add():
        raise ConfigError(f"{text!r}: params.{name} exists; sweep it without '+'")
    return name


def _size(override: Any, text: str, limit: int) -> int:
    """How many values the sweep has, without making them (exactly up to ``limit``)."""
    from hydra.core.override_parser.types import ChoiceSweep, RangeSweep, ValueType

    if not override.is_discrete_sweep() or override.value_type == ValueType.GLOB_CHOICE_SWEEP:
        raise ConfigError(
            f"{text!r}: only sweeps that list their values can run as trials (a,b / choice() / range()); "
            "interval() and glob() need a search algorithm or config groups"
        )
    value = override.value()
    if isinstance(value, RangeSweep):
        values = value.range()
        if isinstance(values, range):
            return len(values)
        # a float range: its length from the bounds when that is past the limit, else counted exactly
        estimate = math.ceil((value.stop - value.start) / value.step) if value.step else 0
        if estimate > limit:
            return estimate
        return sum(1 for _ in itertools.islice(iter(values), limit + 1))
    return len(value.list if isinstance(value, ChoiceSweep) else value)


def _values(override: Any, text: str) -> list[Any]:
    """Each value of the sweep as the Hydra app of one trial would receive ``KEY=VALUE``."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.core.override_parser.types import Transformer
    from hydra.errors import HydraException

    parser = OverridesParser.create()
    key = override.get_key_element()
    try:
        encoded = list(override.sweep_iterator(transformer=Transformer.encode))
        values = [parser.parse_override(f"{key}={item}").value() for item in encoded]
    except HydraException as e:
        raise ConfigError(f"{text!r}: {one_line(e)}") from None
    if not values:
        raise ConfigError(f"{text!r}: the sweep has no values")
    return values


__all__ = ["FAN_IN_LIMIT", "SweepPlan", "expand_sweep", "load_with_sweep", "split_overrides"]
