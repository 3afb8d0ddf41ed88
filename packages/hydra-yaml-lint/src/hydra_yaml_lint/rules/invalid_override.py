"""HY201 invalid-override: an argument Hydra's override parser rejects.

## What it does
Parses each `key=value` argument of a Hydra app with Hydra's own override grammar, after replacing its
placeholders by sample values of their declared types (an input's default when it has one). So
`experiment='{{$.inputs.parameters['experiment']}}'` is accepted, while an unquoted JsonObject
parameter (`cfg={{$.inputs.parameters['cfg']}}` -> `cfg={"key": "value"}`), a doubled `=` or a space in
a bad place is reported with Hydra's message.

## Why is this bad?
Hydra refuses the whole command line at start-up ("Error parsing override"), after the machine was
provisioned.

## Example
```yaml
name: train
inputs:
- {name: lr, type: Float}
implementation:
  container:
    image: hydra-vertex-trainer
    command: [trainer]
    args: ["model.optimizer.lr=={{$.inputs.parameters['lr']}}"]
```

Use instead:
```yaml
name: train
inputs:
- {name: lr, type: Float}
implementation:
  container:
    image: hydra-vertex-trainer
    command: [trainer]
    args: ["model.optimizer.lr={{$.inputs.parameters['lr']}}"]
```

## Fix safety
There is no fix: what the argument should have said is for a person to decide.
"""

from __future__ import annotations

from collections.abc import Iterator

from hydra_yaml_lint.component import Component
from hydra_yaml_lint.context import LintContext
from hydra_yaml_lint.diagnostic import Diagnostic
from hydra_yaml_lint.placeholders import clip
from hydra_yaml_lint.rules._api import RuleInfo

RULE = RuleInfo("HY201", "invalid-override", "error", hydra_only=True)


def check(component: Component, context: LintContext) -> Iterator[Diagnostic]:
    for override in context.overrides(component):
        if override.error is not None:
            yield RULE.at(
                component,
                component.source.span(override.arg.node)[0],
                f"Hydra cannot parse override '{clip(override.arg.value or '')}': {override.error}",
            )
