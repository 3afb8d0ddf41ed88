"""HY202 sweep-override: a sweep (``a=1,2``, ``range(...)``, ``choice(...)``) in a component argument.

A component runs one job; outside ``--multirun`` Hydra rejects a sweep ("Ambiguous value"). A value
that merely contains a comma must be quoted: ``tags='a,b'``.

    # bad
    - trainer.devices=0,1
    # good
    - trainer.devices=[0,1]
"""

from __future__ import annotations

from collections.abc import Iterator

from hydra_yaml_lint.component import Component
from hydra_yaml_lint.context import LintContext
from hydra_yaml_lint.diagnostic import Diagnostic
from hydra_yaml_lint.overrides import parsed_overrides
from hydra_yaml_lint.placeholders import clip
from hydra_yaml_lint.rules._api import RuleInfo

RULE = RuleInfo("HY202", "sweep-override", "error", hydra_only=True)


def check(component: Component, context: LintContext) -> Iterator[Diagnostic]:
    for override in parsed_overrides(component):
        if override.is_sweep:
            yield RULE.at(
                component,
                component.source.span(override.arg.node)[0],
                f"'{clip(override.arg.value or '')}' is a sweep; a component runs one job "
                "(quote a value with commas)",
            )
