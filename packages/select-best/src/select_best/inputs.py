"""The selection's settings: the metric, the goal and each trial's swept parameters.

In a pipeline they are String parameters of the executor input (``inputs.parameterValues``), which the
pipeline compiler fills: ``selection_metric``, ``selection_goal`` and ``trial_parameters``. One absent there
(a pipeline compiled before they existed) takes the Hydra config's value, ``select.metric``,
``select.goal``, ``select.trial_parameters``, whose defaults are ``val_accuracy``, ``maximize`` and ``''``.

``trial_parameters`` is untrusted text: JSON of a list with one object per trial, in trial order (the
trial's swept pipeline parameters, ``[{"learning_rate": 0.002}, ...]``); ``''`` means none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from select_best.criterion import Criterion, criterion
from select_best.errors import SelectError
from select_best.locations import Locations
from select_best.trials import strict_json

METRIC_PARAMETER = "selection_metric"
GOAL_PARAMETER = "selection_goal"
TRIAL_PARAMETERS = "trial_parameters"
#: the largest trial_parameters text read (a few hundred bytes per trial)
MAX_TRIAL_PARAMETERS_BYTES = 1 << 20


@dataclass(frozen=True)
class SelectionInputs:
    """How to rank the trials, and each trial's swept parameters (None: shown from their config.yaml)."""

    criterion: Criterion
    trial_parameters: list[dict[str, Any]] | None = None


def parse_trial_parameters(
    value: Any, trials: int, name: str = TRIAL_PARAMETERS
) -> list[dict[str, Any]] | None:
    """``value`` (JSON text, or a list already parsed) as one parameter mapping per trial; None for ``''``."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        data = value.encode()
        if len(data) > MAX_TRIAL_PARAMETERS_BYTES:
            raise SelectError(f"{name} is larger than {MAX_TRIAL_PARAMETERS_BYTES} bytes")
        try:
            value = strict_json(data)
        except ValueError as exc:
            raise SelectError(f"{name} is not valid JSON: {' '.join(str(exc).split())[:200]}") from None
    if not isinstance(value, list):
        raise SelectError(f"{name} is not a JSON list (one object of parameters per trial)")
    for number, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            raise SelectError(f"{name}: item {number} is not a JSON object (trial {number}'s parameters)")
        if not all(isinstance(key, str) and key for key in item):
            raise SelectError(f"{name}: item {number} has a parameter name that is not a non-empty string")
    if len(value) != trials:
        raise SelectError(f"{name} lists {len(value)} trials, but the trials input has {trials}")
    return value


def _setting(
    given: Mapping[str, Any], parameter: str, select_cfg: Mapping[str, Any], key: str
) -> tuple[Any, str]:
    """The executor input's ``parameter`` if it has one, else ``select.<key>``; with the name to cite."""
    if parameter in given:
        return given[parameter], parameter
    from omegaconf import DictConfig, ListConfig, OmegaConf

    value = select_cfg.get(key)
    if isinstance(value, (DictConfig, ListConfig)):  # by hand: select.trial_parameters=[{lr: 0.1}]
        value = OmegaConf.to_container(value)
    return value, f"select.{key}"


def selection_inputs(select_cfg: Mapping[str, Any], locations: Locations) -> SelectionInputs:
    """The settings for ``locations``: the executor input's parameters, else the ``select`` config."""
    given = locations.parameter_values
    metric, metric_name = _setting(given, METRIC_PARAMETER, select_cfg, "metric")
    goal, goal_name = _setting(given, GOAL_PARAMETER, select_cfg, "goal")
    chosen = criterion(metric, goal, (metric_name, goal_name))
    raw, raw_name = _setting(given, TRIAL_PARAMETERS, select_cfg, "trial_parameters")
    return SelectionInputs(chosen, parse_trial_parameters(raw, len(locations.trials), raw_name))
