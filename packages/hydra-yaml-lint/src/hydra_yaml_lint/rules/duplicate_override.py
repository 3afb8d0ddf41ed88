"""HY203 duplicate-override: the same key overridden twice.

Hydra rejects a config group chosen twice and silently keeps the last value of a repeated key; either
way one of the two arguments is a mistake. Arguments in different branches of an ``{if: ...}`` are not
compared with each other.

    # bad
    - trainer.max_epochs={{$.inputs.parameters['epochs']}}
    - trainer.max_epochs=10
"""

from __future__ import annotations

from collections.abc import Iterator

from hydra_yaml_lint.component import Component
from hydra_yaml_lint.context import LintContext
from hydra_yaml_lint.diagnostic import Diagnostic
from hydra_yaml_lint.overrides import parsed_overrides
from hydra_yaml_lint.rules._api import RuleInfo

RULE = RuleInfo("HY203", "duplicate-override", "error", hydra_only=True)


def check(component: Component, context: LintContext) -> Iterator[Diagnostic]:
    first: dict[str, int] = {}  # key -> offset of its first override
    for override in parsed_overrides(component):
        if override.key is None or override.arg.conditional:
            continue
        start = component.source.span(override.arg.node)[0]
        if override.key in first:
            line = component.source.position(first[override.key])[0]
            yield RULE.at(component, start, f"'{override.key}' is already overridden on line {line}")
        else:
            first[override.key] = start
