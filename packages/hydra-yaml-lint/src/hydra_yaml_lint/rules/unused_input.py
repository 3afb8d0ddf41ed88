"""HY401 unused-input (warning): a declared input that no argument passes to the container.

## What it does
Checks every declared input for a use in the container's command or arguments (a placeholder, a v1
structure, or the input named by an `{if: {cond: {isPresent: ...}}}`). A container that gets the whole
executor input (`{{$}}`, `{{$.json_escape[N]}}`, `{executorInput: null}`) uses every input.

## Why is this bad?
Usually a leftover of a rename, or an argument that was deleted by mistake: the pipeline supplies a
value that the training code never sees.

## Example
```yaml
name: train
inputs:
- {name: epochs, type: Integer}
implementation:
  container:
    image: hydra-vertex-trainer
    command: [trainer]
    args: [trainer.max_epochs=5]
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
There is no fix: passing the input and deleting its declaration are both plausible.
"""

from __future__ import annotations

from collections.abc import Iterator

from hydra_yaml_lint.component import Component
from hydra_yaml_lint.context import LintContext
from hydra_yaml_lint.diagnostic import Diagnostic
from hydra_yaml_lint.rules._api import RuleInfo

RULE = RuleInfo("HY401", "unused-input", "warning")


def check(component: Component, context: LintContext) -> Iterator[Diagnostic]:
    if component.passes_executor_input:
        return
    used = {ref.name for ref in component.references if ref.direction == "inputs"} | component.used_names
    # a malformed placeholder still shows which input was meant; HY102 reports it
    used.update(p.name for arg in component.argv for p in arg.placeholders if p.problem and p.name)
    for name, port in component.inputs.items():
        if name not in used:
            yield RULE.at(
                component,
                component.source.span(port.node)[0],
                f"input '{name}' is declared but not passed to the container",
            )
