"""Edits shared by the placeholder rules: rewrite one placeholder inside an argument, or a v1 structure."""

from __future__ import annotations

from hydra_yaml_lint.component import Arg, Component, StructRef
from hydra_yaml_lint.diagnostic import Edit
from hydra_yaml_lint.fixes import replace_arg
from hydra_yaml_lint.placeholders import Placeholder
from hydra_yaml_lint.yamlsource import render_scalar


def rewrite_placeholder(
    component: Component, arg: Arg, placeholder: Placeholder, new_text: str
) -> Edit | None:
    """Replace one placeholder of a plain string argument (not a concat, whose text is synthesized)."""
    if arg.composite or arg.value is None or arg.struct is not None:
        return None
    value = arg.value[: placeholder.start] + new_text + arg.value[placeholder.end :]
    return replace_arg(component, arg, value)


def rewrite_struct(component: Component, struct: StructRef, key: str, name: str) -> Edit | None:
    """Replace a flow-style v1 structure such as ``{inputValue: x}`` with ``{key: name}``."""
    if not struct.node.flow_style:
        return None
    start, end = component.source.span(struct.node)
    return Edit(start, end, f"{{{key}: {render_scalar(name, None, True)}}}")
