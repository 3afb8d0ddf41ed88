"""HY302 config-error: the component's Hydra config does not compose with its overrides.

## What it does
Reported by the same composition as HY301 when Hydra fails for a reason other than an unknown key: an
append-override (`+key=...`) of a key that already exists, a value of the wrong type for a structured
config (`trainer.max_epochs=abc`), a group chosen twice, or a primary config that does not compose at
all (then at the component's container, with where the config was found).

## Why is this bad?
The container would fail the same way when Hydra composes the config at start-up on Vertex AI.

## Example
```yaml
name: train
inputs:
- {name: epochs, type: Integer}
implementation:
  container:
    image: hydra-vertex-trainer
    command: [trainer]
    args: ["+trainer.max_epochs={{$.inputs.parameters['epochs']}}"]
```

Use instead:
```yaml
name: train
inputs:
- {name: epochs, type: Integer}
implementation:
  container:
    image: hydra-vertex-trainer
    command: [trainer]
    args: ["trainer.max_epochs={{$.inputs.parameters['epochs']}}"]
```

## Fix safety
There is no fix: Hydra's message says what failed, not what was meant.
"""

from __future__ import annotations

from collections.abc import Iterator

from hydra_yaml_lint.component import Component
from hydra_yaml_lint.context import LintContext
from hydra_yaml_lint.diagnostic import Diagnostic
from hydra_yaml_lint.rules._api import RuleInfo

RULE = RuleInfo("HY302", "config-error", "error", hydra_only=True, needs_hydra_config=True)


def check(component: Component, context: LintContext) -> Iterator[Diagnostic]:
    result = context.config_check(component)
    if result is None:
        return
    for finding in result.findings:
        if finding.override is None:
            where = component.source.span(component.node)[0]
            yield RULE.at(component, where, f"{finding.message} ({result.target.origin})")
        elif not finding.unknown_key:
            yield RULE.at(component, component.source.span(finding.override.arg.node)[0], finding.message)
