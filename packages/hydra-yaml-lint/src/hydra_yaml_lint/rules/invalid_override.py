"""HY201 invalid-override: an argument Hydra's override parser rejects.

Each ``key=value`` argument is parsed by Hydra's own override grammar after its placeholders are
replaced by sample values of their declared types (an input's default when it has one). So
``experiment='{{$.inputs.parameters['experiment']}}'`` is accepted, while an unquoted JsonObject
parameter (``cfg={{$.inputs.parameters['cfg']}}`` -> ``cfg={"key": "value"}``) or a value with a
space in a bad place is reported with Hydra's message.

    # bad
    - model.optimizer.lr==0.1
"""

from __future__ import annotations

from collections.abc import Iterator

from hydra_yaml_lint.component import Component
from hydra_yaml_lint.context import LintContext
from hydra_yaml_lint.diagnostic import Diagnostic
from hydra_yaml_lint.overrides import parsed_overrides
from hydra_yaml_lint.placeholders import clip
from hydra_yaml_lint.rules._api import RuleInfo

RULE = RuleInfo("HY201", "invalid-override", "error", hydra_only=True)


def check(component: Component, context: LintContext) -> Iterator[Diagnostic]:
    for override in parsed_overrides(component):
        if override.error is not None:
            yield RULE.at(
                component,
                component.source.span(override.arg.node)[0],
                f"Hydra cannot parse override '{clip(override.arg.value or '')}': {override.error}",
            )
