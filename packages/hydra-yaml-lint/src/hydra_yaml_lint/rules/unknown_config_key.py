"""HY301 unknown-config-key: an override names a key or config group option the app's config lacks.

The check no generic tool does: the component is mapped to its Hydra config (``[tool.hydra-yaml-lint]``
in pyproject.toml, or discovered from the ``hydra.main`` call of the component's program), and
the config is composed with the component's overrides through Hydra's compose API, exactly as the
container will at start-up. The classic case: ``datamodule.data_dir=...`` against a config whose group
is now ``data``; the message suggests ``data.data_dir``. Unknown options of a config group
(``experiment=nope``) are reported too. Append-overrides (``+key=...``) are allowed to add keys.

    # bad (the config has `data`, not `datamodule`)
    - datamodule.data_dir={{$.inputs.artifacts['dataset'].path}}
"""

from __future__ import annotations

from collections.abc import Iterator

from hydra_yaml_lint.component import Component
from hydra_yaml_lint.context import LintContext
from hydra_yaml_lint.diagnostic import Diagnostic
from hydra_yaml_lint.rules._api import RuleInfo

RULE = RuleInfo("HY301", "unknown-config-key", "error", hydra_only=True, needs_hydra_config=True)


def check(component: Component, context: LintContext) -> Iterator[Diagnostic]:
    result = context.config_check(component)
    if result is None:
        return
    for finding in result.findings:
        if finding.override is not None and finding.unknown_key:
            yield RULE.at(component, component.source.span(finding.override.arg.node)[0], finding.message)
