"""Guarded promotion: does the new version take the alias (``champion`` by default) from its holder?

The new version is promoted when no version holds the alias, or when its figure of the promotion metric beats
the holder's by **more than** the margin: higher for ``maximize`` (``new > champion + margin``), lower for
``minimize`` (``new < champion - margin``). The goal ``auto`` is ``minimize`` for a metric whose name ends in
``loss`` or ``error``, else ``maximize``. A test-set metric never decides (it would leak the test set into the
choice of model, and the test figures would no longer be unbiased estimates). A champion whose figure cannot be
recovered keeps the alias unless ``unknown_champion`` is ``promote``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from model_registry.errors import RegistryError

GOALS = ("auto", "maximize", "minimize")
UNKNOWN_CHAMPION = ("keep", "promote")


@dataclass(frozen=True)
class Rule:
    """How a candidate is compared with the champion."""

    alias: str  # '' = no guarded alias
    metric: str
    margin: float
    goal: str  # maximize | minimize (auto resolved)
    unknown_champion: str = "keep"

    @property
    def higher_is_better(self) -> bool:
        return self.goal == "maximize"

    def describe(self) -> str:
        better = "higher" if self.higher_is_better else "lower"
        return (
            f"`{self.alias}` moves to the new version when its {self.metric} is {better} than the current "
            f"holder's by more than {self.margin!r}; with no holder it moves"
        )


@dataclass(frozen=True)
class Champion:
    """The version holding the alias before this registration; ``figure`` None when it cannot be recovered."""

    version: str
    figure: float | None
    why_unknown: str = ""


@dataclass(frozen=True)
class Decision:
    promoted: bool
    reason: str
    candidate: float
    champion: Champion | None


def rule(alias: str, metric: str, margin: float, goal: str, unknown_champion: str = "keep") -> Rule:
    """A checked :class:`Rule`; ``goal`` ``auto`` is resolved from the metric's name."""
    if metric.lower().startswith("test"):
        raise RegistryError(
            f"promotion metric {metric!r} is a test-set metric: promoting on it would leak the test set into "
            "the choice of model; use a validation metric such as val_accuracy"
        )
    if not metric:
        raise RegistryError("the promotion metric is empty")
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not math.isfinite(margin):
        raise RegistryError(f"promotion margin {margin!r} is not a finite number")
    if margin < 0:
        raise RegistryError(f"promotion margin {margin!r} is negative: a worse version would be promoted")
    if goal not in GOALS:
        raise RegistryError(f"promotion goal {goal!r} is not one of {', '.join(GOALS)}")
    if unknown_champion not in UNKNOWN_CHAMPION:
        raise RegistryError(
            f"promotion.unknown_champion {unknown_champion!r} is not one of {', '.join(UNKNOWN_CHAMPION)}"
        )
    if goal == "auto":
        goal = "minimize" if metric.lower().endswith(("loss", "error")) else "maximize"
    return Rule(alias, metric, float(margin), goal, unknown_champion)


def decide(candidate: float, champion: Champion | None, how: Rule) -> Decision:
    """Whether the candidate with figure ``candidate`` takes ``how.alias`` from ``champion``."""
    if champion is None:
        return Decision(True, f"no version holds `{how.alias}`, so the new version takes it", candidate, None)
    if champion.figure is None:
        promote = how.unknown_champion == "promote"
        outcome = "promoted anyway (promotion.unknown_champion=promote)" if promote else "not promoted"
        reason = f"the figure of version {champion.version} (`{how.alias}`) is unknown: {champion.why_unknown}; {outcome}"
        return Decision(promote, reason, candidate, champion)
    old, margin = champion.figure, how.margin
    if how.higher_is_better:
        promote, relation = candidate > old + margin, (">" if candidate > old + margin else "<=")
        reason = f"{how.metric} {candidate!r} {relation} {old!r} + margin {margin!r}"
    else:
        promote, relation = candidate < old - margin, ("<" if candidate < old - margin else ">=")
        reason = f"{how.metric} {candidate!r} {relation} {old!r} - margin {margin!r}"
    verdict = "beats" if promote else "does not beat"
    return Decision(
        promote, f"{reason}: the new version {verdict} version {champion.version}", candidate, champion
    )


__all__ = ["GOALS", "Champion", "Decision", "Rule", "decide", "rule"]
