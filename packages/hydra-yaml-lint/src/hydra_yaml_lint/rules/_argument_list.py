"""The fix shared by HY001 and HY002: rewrite a Hydra app's argument list as overrides, all or nothing.

A half-converted list (``dataset=...`` next to ``--label-column-name``) is accepted by neither argparse
nor Hydra, so the argparse-style and positional arguments of one component are fixed together: one fix
with every edit, offered only if each of them can be fixed, safe only if each part is. It rides on the
first of the component's HY001/HY002 diagnostics.
"""

from __future__ import annotations

from dataclasses import dataclass

from hydra_yaml_lint.argshape import ArgShape, Shape
from hydra_yaml_lint.component import Arg, Component
from hydra_yaml_lint.context import LintContext
from hydra_yaml_lint.diagnostic import Edit, Fix
from hydra_yaml_lint.fixes import delete_item, editable, replace_arg, self_overlapping, trailing_comment

STRING_TYPES = frozenset({"string", "str", "text"})
FLAGGED = frozenset({Shape.LONG_FLAG, Shape.SHORT_FLAG, Shape.POSITIONAL})


@dataclass(frozen=True)
class ListFix:
    """The fix for a component's whole argument list and the argument whose diagnostic carries it."""

    carrier: Arg
    fix: Fix


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


def _flag_fix(component: Component, shape: ArgShape) -> Fix | None:
    """``--name VALUE`` / ``--name=VALUE`` -> ``name=VALUE``; unsafe when the key is a guess (a dashed
    name, a value-less switch). Short flags get none."""
    if shape.shape is Shape.SHORT_FLAG:
        return None
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
    return Fix(f"rewrite as '{key}={value}'", (merged, removal), safe=not ambiguous)


def _positional_fix(component: Component, arg: Arg) -> Fix | None:
    """A lone placeholder or v1 structure -> ``name=<placeholder>`` (unsafe: the key is the input's name,
    a guess). Plain literals get none."""
    if not editable(arg):
        return None
    if arg.struct is not None:
        name = arg.struct.name
    else:
        only = arg.placeholders[0] if len(arg.placeholders) == 1 else None
        if only is None or only.start != 0 or only.end != len(arg.value or "") or not only.is_io:
            return None
        name = only.name
    value = value_text(component, arg)
    if not name or value is None:
        return None
    key = name.replace("-", "_")
    return Fix(f"rewrite as '{key}={value}'", (replace_arg(component, arg, f"{key}={value}"),), safe=False)


def argument_list_fix(component: Component, context: LintContext) -> ListFix | None:
    """The component's all-or-nothing argument list fix, or None."""
    parts: list[Fix] = []
    carrier: Arg | None = None
    for shape in context.shapes(component):
        if shape.shape not in FLAGGED:
            continue
        part = (
            _positional_fix(component, shape.arg)
            if shape.shape is Shape.POSITIONAL
            else _flag_fix(component, shape)
        )
        if part is None:
            return None
        parts.append(part)
        carrier = carrier or shape.arg
    edits = tuple(edit for part in parts for edit in part.edits)
    if carrier is None or self_overlapping(edits):
        return None
    description = parts[0].description if len(parts) == 1 else f"rewrite {len(parts)} arguments as overrides"
    return ListFix(carrier, Fix(description, edits, safe=all(part.safe for part in parts)))


def fix_for(component: Component, context: LintContext, arg: Arg) -> Fix | None:
    """The list fix (computed once per component) if ``arg`` carries it."""
    found = context.cached(component, argument_list_fix)
    return found.fix if found is not None and found.carrier is arg else None
