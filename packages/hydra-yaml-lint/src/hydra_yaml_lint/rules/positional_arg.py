"""HY002 positional-arg: a bare value or placeholder that is not a `key=value` override.

## What it does
Checks the arguments of a Hydra app (see the README's "Hydra gate") for arguments that are neither a
`key=value` override nor one of Hydra's own flags: a lone placeholder, a v1 structure, a plain word.

## Why is this bad?
Hydra reads every command-line argument as an override; a lone `{{$.inputs.parameters['epochs']}}` or
`{inputValue: epochs}` makes it fail with a parse error at run time, after the machine was provisioned.

## Example
```yaml
name: train
inputs:
- {name: epochs, type: Integer}
implementation:
  container:
    image: hydra-vertex-trainer
    command: [trainer]
    args: ["{{$.inputs.parameters['epochs']}}"]
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
The fix is unsafe (only `--unsafe-fixes` applies it): a lone placeholder or v1 structure becomes
`name=<placeholder>`, with the key guessed from the input's name (`epochs=...`), which the app's config
may not have. Plain literals get no fix. Fixes are all or nothing per argument list, together with
HY001's (see `--explain HY001`).
"""

from __future__ import annotations

from collections.abc import Iterator

from hydra_yaml_lint.argshape import Shape
from hydra_yaml_lint.component import Component
from hydra_yaml_lint.context import LintContext
from hydra_yaml_lint.diagnostic import Diagnostic
from hydra_yaml_lint.placeholders import clip
from hydra_yaml_lint.rules._api import RuleInfo
from hydra_yaml_lint.rules._argument_list import fix_for

RULE = RuleInfo("HY002", "positional-arg", "error", hydra_only=True)


def check(component: Component, context: LintContext) -> Iterator[Diagnostic]:
    for shape in context.shapes(component):
        if shape.shape is not Shape.POSITIONAL:
            continue
        arg = shape.arg
        start = component.source.span(arg.node)[0]
        shown = f"{{{arg.struct.key}: {arg.struct.name}}}" if arg.struct is not None else arg.value or ""
        yield RULE.at(
            component,
            start,
            f"positional argument '{clip(shown)}' is not a Hydra override (key=value)",
            fix_for(component, context, arg),
        )
