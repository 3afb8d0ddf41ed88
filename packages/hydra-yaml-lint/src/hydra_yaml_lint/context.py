"""What a rule may ask about a component beyond the component itself, each answer computed once.

:class:`LintContext` is the one owner of the linter's analyses of a file: the Hydra verdict
(:mod:`~hydra_yaml_lint.gate`), the arguments' shapes (:mod:`~hydra_yaml_lint.argshape`), the parsed
overrides (:mod:`~hydra_yaml_lint.overrides`) and the composed config
(:mod:`~hydra_yaml_lint.config_check`), plus whatever a rule helper computes through :meth:`cached`.
Results live as long as the context, which is made for one file; nothing is stored on the component.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from hydra_yaml_lint.argshape import ArgShape, arg_shapes
from hydra_yaml_lint.component import Component
from hydra_yaml_lint.config_check import ConfigCheck, check_config
from hydra_yaml_lint.gate import HydraVerdict, hydra_verdict
from hydra_yaml_lint.overrides import ParsedOverride, parse_overrides
from hydra_yaml_lint.settings import Settings

T = TypeVar("T")


@dataclass
class LintContext:
    """The settings and path of the file being linted, and a cache of analyses per component."""

    settings: Settings
    path: Path
    _results: dict[tuple[Component, Callable[..., Any]], Any] = field(
        default_factory=dict, init=False, repr=False
    )

    def cached(self, component: Component, analysis: Callable[[Component, LintContext], T]) -> T:
        """``analysis(component, self)``, computed on the first call for this component."""
        key = (component, analysis)
        if key not in self._results:
            self._results[key] = analysis(component, self)
        return self._results[key]

    def verdict(self, component: Component) -> HydraVerdict:
        """Whether the component is a Hydra app, and why (see :mod:`~hydra_yaml_lint.gate`)."""
        return self.cached(component, _verdict)

    def is_hydra(self, component: Component) -> bool:
        return self.verdict(component).is_hydra

    def shapes(self, component: Component) -> list[ArgShape]:
        """The shapes of the program's own arguments."""
        return self.cached(component, _shapes)

    def overrides(self, component: Component) -> list[ParsedOverride]:
        """The override-shaped arguments, parsed."""
        return self.cached(component, _overrides)

    def config_check(self, component: Component) -> ConfigCheck | None:
        """The component's Hydra config composed with its overrides; None if its config is not known."""
        return self.cached(component, _config_check)


def _verdict(component: Component, context: LintContext) -> HydraVerdict:
    return hydra_verdict(component, context.settings, context.path)


def _shapes(component: Component, context: LintContext) -> list[ArgShape]:
    return arg_shapes(component)


def _overrides(component: Component, context: LintContext) -> list[ParsedOverride]:
    return parse_overrides(component, context.shapes(component))


def _config_check(component: Component, context: LintContext) -> ConfigCheck | None:
    return check_config(component, context.settings, context.path, context.overrides(component))
