"""HY101 placeholder-quoting: an input or output name not written `['name']` in a placeholder.

## What it does
Checks every placeholder for the quoting of its name: `{{$.inputs.parameters["name"]}}` and an unquoted
`[name]` are reported.

## Why is this bad?
KFP's open-source backend and `kfp.local` match the exact text `['name']`. The form in the original
Vertex sample's README, `{{$.inputs.parameters["name"]}}`, resolves to null there, and an unquoted
`[name]` is not the documented syntax either.

## Example
```yaml
name: train
inputs:
- {name: epochs, type: Integer}
implementation:
  container:
    image: hydra-vertex-trainer
    command: [trainer]
    args: ['trainer.max_epochs={{$.inputs.parameters["epochs"]}}']
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
The fix is safe: `--fix` rewrites the brackets as `['name']`, which names the same input or output for
every backend. Placeholders inside `{concat: ...}` or a compiled `Concat` get no fix (their text is
assembled, not written in one place).
"""

from __future__ import annotations

from collections.abc import Iterator

from hydra_yaml_lint.component import Component
from hydra_yaml_lint.context import LintContext
from hydra_yaml_lint.diagnostic import Diagnostic, Fix
from hydra_yaml_lint.placeholders import io_placeholder
from hydra_yaml_lint.rules._api import RuleInfo
from hydra_yaml_lint.rules._placeholder_edits import rewrite_placeholder

RULE = RuleInfo("HY101", "placeholder-quoting", "error")


def check(component: Component, context: LintContext) -> Iterator[Diagnostic]:
    for arg in component.argv:
        for placeholder in arg.placeholders:
            if placeholder.direction is None or placeholder.quote == "'" or placeholder.name is None:
                continue
            canonical = io_placeholder(
                placeholder.direction, placeholder.section or "", placeholder.name, placeholder.attribute
            )
            edit = rewrite_placeholder(component, arg, placeholder, canonical)
            fix = Fix(f"write ['{placeholder.name}']", (edit,)) if edit is not None else None
            written = f"[{placeholder.quote}{placeholder.name}{placeholder.quote}]"
            yield RULE.at(
                component,
                arg.source_offset(component.source, placeholder.start),
                f"placeholder name written {written}; KFP resolves only ['{placeholder.name}']",
                fix,
            )
