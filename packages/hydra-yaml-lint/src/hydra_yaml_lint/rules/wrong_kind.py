"""HY105 wrong-kind: an artifact referenced as a parameter, or a parameter as an artifact.

## What it does
Checks every placeholder and v1 structure against the declared type of the name it references. Whether
a name is an artifact or a parameter follows from its declared type, the way kfp decides it (`Dataset`,
`Model`, `Metrics`, `system.*`, untyped -> artifact; `String`, `Integer`, `Float`, `Boolean`,
`JsonObject`, `JsonArray` -> parameter). A v1 input declared without `type:` is an artifact to kfp 2, so
`{inputValue: x}` on it is reported too (kfp 1 passed a string).

## Why is this bad?
A placeholder of the wrong kind resolves to nothing: the container receives an empty value or the
literal placeholder text, at run time.

## Example
```yaml
name: train
inputs:
- {name: dataset, type: Dataset}
implementation:
  container:
    image: hydra-vertex-trainer
    command: [trainer]
    args: ["data.data_dir={{$.inputs.parameters['dataset']}}"]
```

Use instead:
```yaml
name: train
inputs:
- {name: dataset, type: Dataset}
implementation:
  container:
    image: hydra-vertex-trainer
    command: [trainer]
    args: ["data.data_dir={{$.inputs.artifacts['dataset'].path}}"]
```

## Fix safety
Safe (`--fix`): an artifact placeholder on a parameter becomes a parameter placeholder, and an untyped
v1 input whose every use is a value is declared `type: String`. Unsafe (`--unsafe-fixes` only): a
parameter placeholder on an artifact becomes `.path`, though `.uri` may be what was meant.
"""

from __future__ import annotations

from collections.abc import Iterator

from hydra_yaml_lint.component import Component, Port, Reference
from hydra_yaml_lint.context import LintContext
from hydra_yaml_lint.diagnostic import Diagnostic, Edit, Fix
from hydra_yaml_lint.placeholders import io_placeholder
from hydra_yaml_lint.rules._api import RuleInfo
from hydra_yaml_lint.rules._placeholder_edits import rewrite_placeholder, rewrite_struct

RULE = RuleInfo("HY105", "wrong-kind", "error")


def _edit(component: Component, ref: Reference, section: str) -> Edit | None:
    if ref.struct is not None:
        if section == "artifacts":
            key = "inputPath" if ref.direction == "inputs" else "outputPath"
        else:
            key = "inputValue" if ref.direction == "inputs" else "outputPath"
        return rewrite_struct(component, ref.struct, key, ref.name)
    attribute = ".path" if section == "artifacts" else (".output_file" if ref.direction == "outputs" else "")
    text = io_placeholder(ref.direction, section, ref.name, attribute)
    assert ref.placeholder is not None
    return rewrite_placeholder(component, ref.arg, ref.placeholder, text)


def _declare_string(component: Component, port: Port) -> Edit | None:
    """Add ``type: String`` to a v1 input's declaration, after its name."""
    declaration, source = port.declaration, component.source
    if declaration is None:
        return None
    name_end = source.span(port.node)[1]
    if declaration.flow_style:
        return Edit(name_end, name_end, ", type: String")
    key = next((k for k, v in declaration.value if v is port.node), None)
    if key is None:
        return None
    at = source.line_end(name_end)
    line = " " * key.start_mark.column + "type: String"
    newline_missing = at == len(source.text) and not source.text.endswith(("\n", "\r"))
    return Edit(at, at, ("\n" + line) if newline_missing else line + "\n")


def _untyped_fix(component: Component, port: Port) -> Fix | None:
    uses = [ref for ref in component.references if ref.name == port.name and ref.direction == port.direction]
    if port.direction != "inputs" or any(ref.section != "parameters" for ref in uses):
        return None
    edit = _declare_string(component, port)
    return Fix(f"declare '{port.name}' with type: String", (edit,)) if edit is not None else None


def check(component: Component, context: LintContext) -> Iterator[Diagnostic]:
    untyped_fixes: dict[str, Fix | None] = {}
    for ref in component.references:
        declared = (component.inputs if ref.direction == "inputs" else component.outputs).get(ref.name)
        if declared is None or ref.section is None:
            continue
        wanted = "parameters" if declared.kind == "parameter" else "artifacts"
        if ref.section == wanted:
            continue
        offset = (
            ref.arg.source_offset(component.source, ref.placeholder.start)
            if ref.placeholder is not None
            else component.source.span(ref.arg.node)[0]
        )
        if not declared.typed:
            if declared.name not in untyped_fixes:
                untyped_fixes[declared.name] = _untyped_fix(component, declared)
            yield RULE.at(
                component,
                offset,
                f"'{ref.name}' has no type, so kfp 2 makes it an artifact, but it is referenced as "
                f"{ref.section[:-1]}; declare its type",
                untyped_fixes[declared.name],
            )
            continue
        edit = _edit(component, ref, wanted)
        fix = Fix(f"reference it under {wanted}", (edit,), safe=wanted == "parameters") if edit else None
        yield RULE.at(
            component,
            offset,
            f"'{ref.name}' is {'a parameter' if wanted == 'parameters' else 'an artifact'} "
            f"({declared.type_name}) but is referenced as {ref.section[:-1]}",
            fix,
        )
