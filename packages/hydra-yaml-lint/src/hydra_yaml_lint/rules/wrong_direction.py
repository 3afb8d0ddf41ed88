"""HY104 wrong-direction: an output referenced under `$.inputs` (or an input under `$.outputs`).

## What it does
Checks every placeholder and v1 structure that names a declared output under `$.inputs` (or
`inputPath`, ...), or a declared input under `$.outputs`.

## Why is this bad?
The original Vertex sample's conversion table writes the model output as
`{{$.inputs.artifacts['model'].path}}`; KFP then looks for an input named `model` and the task fails at
run time.

## Example
```yaml
name: train
outputs:
- {name: model, type: Model}
implementation:
  container:
    image: hydra-vertex-trainer
    command: [trainer]
    args: ["paths.output_dir={{$.inputs.artifacts['model'].path}}"]
```

Use instead:
```yaml
name: train
outputs:
- {name: model, type: Model}
implementation:
  container:
    image: hydra-vertex-trainer
    command: [trainer]
    args: ["paths.output_dir={{$.outputs.artifacts['model'].path}}"]
```

## Fix safety
The fix is safe: `--fix` references the name in the direction it is declared in (an output parameter as
`{{$.outputs.parameters['x'].output_file}}`, a v1 structure as its counterpart, `inputPath` <->
`outputPath`), which is the only reading KFP can resolve. Placeholders inside `{concat: ...}` and block
style v1 structures get no fix.
"""

from __future__ import annotations

from collections.abc import Iterator

from hydra_yaml_lint.component import Component, Reference
from hydra_yaml_lint.context import LintContext
from hydra_yaml_lint.diagnostic import Diagnostic, Edit, Fix
from hydra_yaml_lint.placeholders import io_placeholder
from hydra_yaml_lint.rules._api import RuleInfo
from hydra_yaml_lint.rules._placeholder_edits import rewrite_placeholder, rewrite_struct

RULE = RuleInfo("HY104", "wrong-direction", "error")

_FLIPPED_STRUCT = {
    "inputPath": "outputPath",
    "outputPath": "inputPath",
    "inputUri": "outputUri",
    "outputUri": "inputUri",
    "inputValue": "outputPath",
    "inputMetadata": "outputMetadata",
    "outputMetadata": "inputMetadata",
}


def _flipped(component: Component, ref: Reference, direction: str, section: str) -> Edit | None:
    if ref.struct is not None:
        key = _FLIPPED_STRUCT[ref.struct.key]
        if key == "inputPath" and section == "parameters":
            key = "inputValue"
        return rewrite_struct(component, ref.struct, key, ref.name)
    placeholder = ref.placeholder
    assert placeholder is not None
    attribute = placeholder.attribute
    if section == "parameters":
        attribute = ".output_file" if direction == "outputs" else ""
    return rewrite_placeholder(
        component, ref.arg, placeholder, io_placeholder(direction, section, ref.name, attribute)
    )


def check(component: Component, context: LintContext) -> Iterator[Diagnostic]:
    for ref in component.references:
        here, there = (
            (component.inputs, component.outputs)
            if ref.direction == "inputs"
            else (component.outputs, component.inputs)
        )
        if ref.name in here or ref.name not in there:
            continue
        declared = there[ref.name]
        direction = declared.direction
        section = "parameters" if declared.kind == "parameter" else "artifacts"
        edit = _flipped(component, ref, direction, section)
        fix = Fix(f"reference it under $.{direction}", (edit,)) if edit is not None else None
        offset = (
            ref.arg.source_offset(component.source, ref.placeholder.start)
            if ref.placeholder is not None
            else component.source.span(ref.arg.node)[0]
        )
        what = "an output" if direction == "outputs" else "an input"
        yield RULE.at(
            component,
            offset,
            f"'{ref.name}' is {what} but is referenced under $.{ref.direction}",
            fix,
        )
