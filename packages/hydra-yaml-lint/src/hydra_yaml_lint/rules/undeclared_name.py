"""HY103 undeclared-name: a placeholder names an input or output the component does not declare.

## What it does
Checks every placeholder and v1 structure for a name that is not among the component's declared inputs
and outputs; the message suggests the closest declared name.

## Why is this bad?
KFP compiles `{{$.inputs.parameters['learning_rat']}}` silently; the backend then fails the task (or
passes an empty value) at run time.

## Example
```yaml
name: train
inputs:
- {name: learning_rate, type: Float}
implementation:
  container:
    image: hydra-vertex-trainer
    command: [trainer]
    args: ["model.optimizer.lr={{$.inputs.parameters['learning_rat']}}"]
```

Use instead:
```yaml
name: train
inputs:
- {name: learning_rate, type: Float}
implementation:
  container:
    image: hydra-vertex-trainer
    command: [trainer]
    args: ["model.optimizer.lr={{$.inputs.parameters['learning_rate']}}"]
```

## Fix safety
The fix is unsafe (only `--unsafe-fixes` applies it): it uses the suggested name, offered only when
exactly one declared name is close, but a close name is still a guess -- the input may be missing from
the declarations instead.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from hydra_yaml_lint.component import Component, Reference
from hydra_yaml_lint.context import LintContext
from hydra_yaml_lint.diagnostic import Diagnostic, Edit, Fix
from hydra_yaml_lint.placeholders import io_placeholder
from hydra_yaml_lint.rules._api import RuleInfo
from hydra_yaml_lint.rules._placeholder_edits import rewrite_placeholder, rewrite_struct

RULE = RuleInfo("HY103", "undeclared-name", "error")


def _renamed(component: Component, ref: Reference, name: str) -> Edit | None:
    if ref.struct is not None:
        return rewrite_struct(component, ref.struct, ref.struct.key, name)
    placeholder = ref.placeholder
    assert placeholder is not None
    text = io_placeholder(placeholder.direction or "", placeholder.section or "", name, placeholder.attribute)
    return rewrite_placeholder(component, ref.arg, placeholder, text)


def check(component: Component, context: LintContext) -> Iterator[Diagnostic]:
    for ref in component.references:
        if component.port(ref.name) is not None:
            continue
        declared = component.inputs if ref.direction == "inputs" else component.outputs
        matches = difflib.get_close_matches(ref.name, list(declared), n=2, cutoff=0.6)
        hint = f" (did you mean '{matches[0]}'?)" if matches else ""
        fix = None
        if len(matches) == 1:
            edit = _renamed(component, ref, matches[0])
            fix = Fix(f"use '{matches[0]}'", (edit,), safe=False) if edit is not None else None
        offset = (
            ref.arg.source_offset(component.source, ref.placeholder.start)
            if ref.placeholder is not None
            else component.source.span(ref.arg.node)[0]
        )
        what = "input" if ref.direction == "inputs" else "output"
        yield RULE.at(component, offset, f"undeclared {what} '{ref.name}'{hint}", fix)
