"""What ranks the trials: a metric (a key of each trial's ``metrics.json``) and a goal (maximize or minimize).

The test set is never used to choose: a metric whose name starts with ``test`` is refused, since picking on
it would leak the test set and the reported test figures would no longer be unbiased estimates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from select_best.errors import SelectError

DEFAULT_METRIC = "val_accuracy"
MAXIMIZE, MINIMIZE = "maximize", "minimize"
GOALS = (MAXIMIZE, MINIMIZE)
DEFAULT_GOAL = MAXIMIZE

#: keys select-best writes next to the metric's value in the Metrics output and selection.json
RESERVED_KEYS = frozenset(
    {
        "best_trial",
        "trials",
        "failed_trials",
        "source",
        "parameters",
        "rule",
        "selection_metric",
        "selection_goal",
    }
)
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]{0,127}")
_DESCRIPTIONS = {"val_accuracy": "validation accuracy (val_accuracy of the saved weights)"}


def is_accuracy(metric: str) -> bool:
    """Whether ``metric`` is an accuracy, whose values must lie in [0, 1]."""
    return metric.endswith("accuracy")


@dataclass(frozen=True)
class Criterion:
    """The metric that ranks the trials and whether the highest or the lowest value wins."""

    metric: str = DEFAULT_METRIC
    goal: str = DEFAULT_GOAL

    @property
    def maximize(self) -> bool:
        return self.goal == MAXIMIZE

    @property
    def rule(self) -> str:
        """The rule in words, for the table, the report and ``--help``."""
        description = _DESCRIPTIONS.get(self.metric, f"{self.metric} (in each trial's metrics.json)")
        return (
            f"{'highest' if self.maximize else 'lowest'} {description}; ties go to the lower trial number; "
            "test accuracy is shown but never used to choose"
        )

    @property
    def short_rule(self) -> str:
        """The rule as selection.json records it: ``max val_accuracy, ties to the lower trial number``."""
        return f"{'max' if self.maximize else 'min'} {self.metric}, ties to the lower trial number"

    def format(self, value: float) -> str:
        """A value of the metric as the table and the console show it."""
        return f"{value:.4f}" if is_accuracy(self.metric) else f"{value:.6g}"


DEFAULT_CRITERION = Criterion()


def criterion(metric: Any, goal: Any, names: tuple[str, str] = ("select.metric", "select.goal")) -> Criterion:
    """A checked :class:`Criterion`; ``names`` are what the user calls the two settings (for the errors)."""
    metric_name, goal_name = names
    if not isinstance(metric, str) or not _NAME.fullmatch(metric):
        raise SelectError(
            f"{metric_name} is {metric!r}: give the key in each trial's metrics.json that ranks the trials "
            "(letters, digits, _ . / -, at most 128 characters)"
        )
    if metric.lower().startswith("test"):
        raise SelectError(
            f"{metric_name} is {metric!r}: selecting on the test set leaks it; "
            "rank the trials on a validation metric such as val_accuracy"
        )
    if metric in RESERVED_KEYS:
        raise SelectError(f"{metric_name} is {metric!r}, a key select-best writes itself; rename the metric")
    if goal not in GOALS:
        raise SelectError(f"{goal_name} is {goal!r}: give {MAXIMIZE} or {MINIMIZE}")
    return Criterion(metric, goal)
