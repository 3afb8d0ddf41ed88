"""HY202 sweep-override: a sweep (`a=1,2`, `range(...)`, `choice(...)`) in a component argument.

## What it does
Checks the overrides of a Hydra app for sweeps, which Hydra's parser reads as several values.

## Why is this bad?
A component runs one job; outside `--multirun` Hydra rejects a sweep ("Ambiguous value") at start-up. A
value that merely contains a comma must be quoted (`tags='a,b'`) or written as a list (`[0,1]`); a sweep
over trials belongs to the pipeline (in this repository `pipeline-sdk compile -m`), not to one
component's arguments.

## Example
```yaml
name: train
implementation:
  container:
    image: hydra-vertex-trainer
    command: [trainer]
    args: ["trainer.max_epochs=5,10"]
```

Use instead:
```yaml
name: train
implementation:
  container:
    image: hydra-vertex-trainer
    command: [trainer]
    args: [trainer.max_epochs=10]
```

## Fix safety
There is no fix: a list, a quoted string or one of the values could each be what was meant.
"""

from __future__ import annotations

from collections.abc import Iterator

from hydra_yaml_lint.component import Component
from hydra_yaml_lint.context import LintContext
from hydra_yaml_lint.diagnostic import Diagnostic
from hydra_yaml_lint.placeholders import clip
from hydra_yaml_lint.rules._api import RuleInfo

RULE = RuleInfo("HY202", "sweep-override", "error", hydra_only=True)


def check(component: Component, context: LintContext) -> Iterator[Diagnostic]:
    for override in context.overrides(component):
        if override.is_sweep:
            yield RULE.at(
                component,
                component.source.span(override.arg.node)[0],
                f"'{clip(override.arg.value or '')}' is a sweep; a component runs one job "
                "(quote a value with commas)",
            )
