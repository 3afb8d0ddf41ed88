"""HY001 argparse-style-arg: `--name value`, `--name=value` or `-x` in a Hydra app's arguments.

## What it does
Checks the arguments of a Hydra app (see the README's "Hydra gate") for argparse-style flags. Hydra's own
flags (`--config-name`, `-m`, ...) are not reported, nor are the flags of a program that is not a Hydra
app: they are its own.

## Why is this bad?
A Hydra entry point takes overrides (`name=value`); an argparse flag makes it exit with "unrecognized
arguments" only after Vertex AI has provisioned the machine. Vertex's own documentation shows the
argparse form (`--lr`, `{inputValue: lr}`), so it is the most common mistake.

## Example
```yaml
name: train
inputs:
- {name: lr, type: Float}
implementation:
  container:
    image: hydra-vertex-trainer
    command: [trainer]
    args: [--lr, {inputValue: lr}]
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
`--fix` rewrites `--name VALUE` and `--name=VALUE` as `name=VALUE`, a v1 structure as the v2 placeholder
it compiles to (`{inputValue: lr}` -> `{{$.inputs.parameters['lr']}}`) and a string parameter in Hydra
quotes. The fix is safe when the key is certain; it is unsafe (`--unsafe-fixes`) when the key is a
guess: a dashed flag (`--learning-rate` could mean `learning_rate` or `learning-rate`) or a value-less
switch (`--verbose` -> `verbose=true`). Short flags get no fix. The fix is all or nothing per argument
list, together with HY002's: one fix, on the component's first finding, rewrites every argparse-style
and positional argument, and only when each of them can be rewritten (a half-converted list is accepted
by neither argparse nor Hydra). The key is the flag's name (`--lr` -> `lr=...`): where the app's config
calls it `model.optimizer.lr`, HY301 reports the fixed argument when the config is known.
"""

from __future__ import annotations

from collections.abc import Iterator

from hydra_yaml_lint.argshape import Shape
from hydra_yaml_lint.component import Component
from hydra_yaml_lint.context import LintContext
from hydra_yaml_lint.diagnostic import Diagnostic
from hydra_yaml_lint.rules._api import RuleInfo
from hydra_yaml_lint.rules._argument_list import fix_for

RULE = RuleInfo("HY001", "argparse-style-arg", "error", hydra_only=True)


def check(component: Component, context: LintContext) -> Iterator[Diagnostic]:
    for shape in context.shapes(component):
        if shape.shape not in (Shape.LONG_FLAG, Shape.SHORT_FLAG):
            continue
        start = component.source.span(shape.arg.node)[0]
        fix = fix_for(component, context, shape.arg)
        if shape.shape is Shape.SHORT_FLAG:
            message = f"short flag '-{shape.flag}' is not a Hydra override; use 'key=value'"
            yield RULE.at(component, start, message, fix)
            continue
        key = (shape.flag or "").replace("-", "_")
        yield RULE.at(
            component,
            start,
            f"argparse-style flag '--{shape.flag}' is not a Hydra override; use '{key}=...'",
            fix,
        )
