"""The selection rule and the parameters that tell the trials apart.

Rule: the best value of the selection metric wins (by default the highest **validation** accuracy; the test
set is never used to choose: that would leak it); a tie goes to the lower trial number.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from select_best.criterion import DEFAULT_CRITERION, Criterion
from select_best.errors import SelectError
from select_best.trials import Trial

# per-run plumbing that differs between trials without being a trial parameter
_IGNORED_PREFIXES = ("paths.", "kfp.", "hydra.")
_MISSING = object()
_REASONS_SHOWN = 3


@dataclass(frozen=True)
class Selection:
    """Every trial in sweep order, the winner, the parameter names that tell the trials apart, how the
    winner was chosen, and the trials' swept pipeline parameters when the pipeline gave them."""

    trials: list[Trial]
    best: Trial
    parameters: list[str]
    criterion: Criterion = DEFAULT_CRITERION
    trial_parameters: list[dict[str, Any]] | None = None

    @property
    def failed(self) -> list[Trial]:
        return [t for t in self.trials if not t.succeeded]

    @property
    def rule(self) -> str:
        return self.criterion.rule

    def parameter_values(self, trial: Trial) -> dict[str, Any]:
        """``trial``'s value of each of :attr:`parameters` that is known (a failed trial's too)."""
        if self.trial_parameters is not None:
            return dict(self.trial_parameters[trial.number - 1])
        return {k: trial.config[k] for k in self.parameters if k in trial.config}


def _mentions_own_output_dir(trial: Trial, value: Any) -> bool:
    own = trial.config.get("paths.output_dir")
    return isinstance(own, str) and bool(own) and isinstance(value, str) and own in value


def differing_parameters(trials: list[Trial]) -> list[str]:
    """Flattened config keys whose values differ across the trials that have a config, in config order.

    Keys under ``paths``/``kfp``/``hydra`` and values derived from each trial's own output directory
    (checkpoint and log locations) are plumbing, not parameters.
    """
    configured = [t for t in trials if t.config]
    keys = list(dict.fromkeys(k for t in configured for k in t.config))
    parameters = []
    for key in keys:
        if key.startswith(_IGNORED_PREFIXES):
            continue
        values = [t.config.get(key, _MISSING) for t in configured]
        if all(_mentions_own_output_dir(t, v) for t, v in zip(configured, values, strict=True)):
            continue
        distinct = {json.dumps(v, sort_keys=True, default=str) if v is not _MISSING else "" for v in values}
        if len(distinct) > 1:
            parameters.append(key)
    return parameters


def select(
    trials: list[Trial],
    criterion: Criterion = DEFAULT_CRITERION,
    trial_parameters: list[dict[str, Any]] | None = None,
) -> Selection:
    """Apply ``criterion`` (trials loaded with its metric); raise :class:`SelectError` when no trial
    succeeded. ``trial_parameters`` (one mapping per trial) names the parameters instead of the configs."""
    if trial_parameters is not None and len(trial_parameters) != len(trials):
        raise SelectError(
            f"trial_parameters lists {len(trial_parameters)} trials, but there are {len(trials)}"
        )
    if not trials:
        raise SelectError("no trials to choose from (the trials input is empty: no trial produced a model)")
    succeeded = [t for t in trials if t.succeeded]
    if not succeeded:
        reasons = "; ".join(f"trial {t.number}: {t.error}" for t in trials[:_REASONS_SHOWN])
        more = f"; {len(trials) - _REASONS_SHOWN} more" if len(trials) > _REASONS_SHOWN else ""
        raise SelectError(f"all {len(trials)} trials failed, nothing to select ({reasons}{more})")
    scored = [(t, score) for t in succeeded if (score := t.metric(criterion.metric)) is not None]
    if len(scored) != len(succeeded):
        raise ValueError(f"the trials were loaded for another metric than {criterion.metric!r}")
    sign = 1.0 if criterion.maximize else -1.0
    best = max(scored, key=lambda ts: (sign * ts[1], -ts[0].number))[0]
    if trial_parameters is None:
        return Selection(trials, best, differing_parameters(trials), criterion)
    names = list(dict.fromkeys(k for mapping in trial_parameters for k in mapping))
    return Selection(trials, best, names, criterion, trial_parameters)
