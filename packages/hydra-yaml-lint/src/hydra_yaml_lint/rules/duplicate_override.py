"""HY203 duplicate-override: the same key overridden twice.

## What it does
Checks the overrides of a Hydra app for a key (or config group) that appears twice. Arguments in
different branches of an `{if: ...}` are not compared with each other.

## Why is this bad?
Hydra rejects a config group chosen twice and silently keeps the last value of a repeated key; either
way one of the two arguments is a mistake, often a pipeline input that never takes effect.

## Example
```yaml
name: train
inputs:
- {name: epochs, type: Integer}
implementation:
  container:
    image: hydra-vertex-trainer
    command: [trainer]
    args:
    - trainer.max_epochs={{$.inputs.parameters['epochs']}}
    - trainer.max_epochs=10
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
    args:
    - trainer.max_epochs={{$.inputs.parameters['epochs']}}
```

## Fix safety
There is no fix: which of the two values was meant is for a person to decide.
"""

from __future__ import annotations

from collections.abc import Iterator

from hydra_yaml_lint.component import Component
from hydra_yaml_lint.context import LintContext
from hydra_yaml_lint.diagnostic import Diagnostic
from hydra_yaml_lint.rules._api import RuleInfo

RULE = RuleInfo("HY203", "duplicate-override", "error", hydra_only=True)


def check(component: Component, context: LintContext) -> Iterator[Diagnostic]:
    first: dict[str, int] = {}  # key -> offset of its first override
    for override in context.overrides(component):
        if override.key is None or override.arg.conditional:
            continue
        start = component.source.span(override.arg.node)[0]
        if override.key in first:
            line = component.source.position(first[override.key])[0]
            yield RULE.at(component, start, f"'{override.key}' is already overridden on line {line}")
        else:
            first[override.key] = start
