"""The selection rule and the parameters that tell the trials apart.

Rule: the highest **validation** accuracy wins (the test set is never used to choose: that would leak it);
a tie goes to the lower trial number.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from select_best.errors import SelectError
from select_best.trials import Trial

RULE = (
    "highest validation accuracy (val_accuracy of the saved weights); ties go to the lower trial number; "
    "test accuracy is shown but never used to choose"
)

# per-run plumbing that differs between trials without being a trial parameter
_IGNORED_PREFIXES = ("paths.", "kfp.", "hydra.")
_MISSING = object()
_REASONS_SHOWN = 3


@dataclass(frozen=True)
class Selection:
    """Every trial in sweep order, the winner, and the config keys whose values differ between trials."""

    trials: list[Trial]
    best: Trial
    parameters: list[str]

    @property
    def failed(self) -> list[Trial]:
        return [t for t in self.trials if not t.succeeded]


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


def select(trials: list[Trial]) -> Selection:
    """Apply :data:`RULE`; raise :class:`SelectError` when no trial succeeded."""
    if not trials:
        raise SelectError("no trials to choose from (the trials input is empty: no trial produced a model)")
    succeeded = [t for t in trials if t.succeeded]
    if not succeeded:
        reasons = "; ".join(f"trial {t.number}: {t.error}" for t in trials[:_REASONS_SHOWN])
        more = f"; {len(trials) - _REASONS_SHOWN} more" if len(trials) > _REASONS_SHOWN else ""
        raise SelectError(f"all {len(trials)} trials failed, nothing to select ({reasons}{more})")
    best = max(succeeded, key=lambda t: (t.val_accuracy, -t.number))
    return Selection(trials, best, differing_parameters(trials))
