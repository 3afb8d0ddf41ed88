"""What every rule module provides, and a helper to build its diagnostics."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from hydra_yaml_lint.diagnostic import Diagnostic, Fix, Severity

if TYPE_CHECKING:
    from hydra_yaml_lint.component import Component
    from hydra_yaml_lint.context import LintContext


@dataclass(frozen=True)
class RuleInfo:
    """A rule's stable code, kebab-case name and severity."""

    code: str
    name: str
    severity: Severity
    hydra_only: bool = False  # checks Hydra apps only (see gate.py)
    needs_hydra_config: bool = False  # composes the app's Hydra config

    def at(self, component: Component, offset: int, message: str, fix: Fix | None = None) -> Diagnostic:
        """A diagnostic at source offset ``offset`` of the component's file."""
        line, column = component.source.position(offset)
        return Diagnostic(component.path, line, column, self.code, self.name, self.severity, message, fix)


class Rule(Protocol):
    """A rule module: ``RULE`` plus ``check``; its docstring is the rule's documentation."""

    __doc__: str | None
    RULE: RuleInfo

    def check(self, component: Component, context: LintContext) -> Iterator[Diagnostic]: ...
