"""HY001 argparse-style-arg: ``--name value``, ``--name=value`` or ``-x`` in a Hydra component.

A Hydra entry point takes overrides (``name=value``); argparse flags make it exit with
"unrecognized arguments" only after Vertex has provisioned the machine. Vertex's own documentation
shows the argparse form (``--lr``, ``{inputValue: lr}``), so it is the most common mistake.

Fix: ``--name VALUE`` and ``--name=VALUE`` become ``name=VALUE``, with v1 structures rewritten as v2
placeholders (``{inputValue: lr}`` -> ``{{$.inputs.parameters['lr']}}``) and string parameters wrapped in
Hydra quotes. The fix is unsafe when the key is a guess: a dashed flag (``--learning-rate`` could mean
``learning_rate`` or ``learning-rate``) or a value-less switch (``--verbose`` -> ``verbose=true``).
Hydra's own flags (``--config-name``, ``-m``, ...) are not reported; short flags get no fix.

    # bad
    args: [--lr, {inputValue: lr}]
    # good
    args: ["lr={{$.inputs.parameters['lr']}}"]
"""

from __future__ import annotations

from collections.abc import Iterator

from hydra_yaml_lint.argshape import ArgShape, Shape, arg_shapes
from hydra_yaml_lint.component import Arg, Component
from hydra_yaml_lint.context import LintContext
from hydra_yaml_lint.diagnostic import Diagnostic, Edit, Fix
from hydra_yaml_lint.fixes import delete_item, editable, replace_arg, trailing_comment
from hydra_yaml_lint.rules._api import RuleInfo

RULE = RuleInfo("HY001", "argparse-style-arg", "error")
STRING_TYPES = frozenset({"string", "str", "text"})


def value_text(component: Component, arg: Arg) -> str | None:
    """The override value for ``arg``: its string, with a lone v1 structure as a v2 placeholder and
    string-typed parameters in Hydra quotes so commas or spaces in the value stay data."""
    if arg.struct is not None:
        placeholder, name = component.placeholder_for(arg.struct), arg.struct.name
        is_value = arg.struct.key == "inputValue"
    elif len(arg.placeholders) == 1 and arg.placeholders[0].text == arg.value:
        placeholder, name = arg.value, arg.placeholders[0].name
        is_value = arg.placeholders[0].section == "parameters" and arg.placeholders[0].direction == "inputs"
    else:
        return arg.value
    port = component.port(name or "")
    if is_value and port is not None and port.type_name.lower() in STRING_TYPES:
        return f"'{placeholder}'"
    return placeholder


def _fix(component: Component, shape: ArgShape) -> Fix | None:
    if not editable(shape.arg) or (shape.value_arg is not None and not editable(shape.value_arg)):
        return None
    flag = shape.flag or ""
    key = flag.replace("-", "_")
    ambiguous = "-" in flag
    if shape.inline_value is not None:
        edits = [replace_arg(component, shape.arg, f"{key}={shape.inline_value}")]
        return Fix(f"rewrite as '{key}={shape.inline_value}'", tuple(edits), safe=not ambiguous)
    if shape.value_arg is None:
        edit = replace_arg(component, shape.arg, f"{key}=true")
        return Fix(f"rewrite switch as '{key}=true'", (edit,), safe=False)
    value = value_text(component, shape.value_arg)
    if value is None or shape.value_arg.seq is not shape.arg.seq or shape.value_arg.node is shape.arg.node:
        return None
    source = component.source
    removal = delete_item(source, shape.value_arg.seq, shape.value_arg.index)
    if removal is None:
        return None
    merged = replace_arg(component, shape.arg, f"{key}={value}")
    comment = (
        None if shape.arg.seq.flow_style else trailing_comment(source, source.span(shape.value_arg.node)[1])
    )
    if comment is not None and trailing_comment(source, merged.end) is None:  # keep the value line's comment
        merged = Edit(merged.start, merged.end, f"{merged.content}  {comment}")
    edits = (merged, removal)
    return Fix(f"rewrite as '{key}={value}'", edits, safe=not ambiguous)


def check(component: Component, context: LintContext) -> Iterator[Diagnostic]:
    for shape in arg_shapes(component):
        if shape.shape not in (Shape.LONG_FLAG, Shape.SHORT_FLAG):
            continue
        start = component.source.span(shape.arg.node)[0]
        dashes = "--" if shape.shape is Shape.LONG_FLAG else "-"
        if shape.shape is Shape.SHORT_FLAG:
            message = f"short flag '{dashes}{shape.flag}' is not a Hydra override; use 'key=value'"
            yield RULE.at(component, start, message)
            continue
        fix = _fix(component, shape)
        key = (shape.flag or "").replace("-", "_")
        yield RULE.at(
            component,
            start,
            f"argparse-style flag '--{shape.flag}' is not a Hydra override; use '{key}=...'",
            fix,
        )
