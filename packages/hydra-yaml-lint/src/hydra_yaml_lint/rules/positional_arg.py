"""HY002 positional-arg: a bare value or placeholder that is not a ``key=value`` override.

Hydra reads every command-line argument as an override; a lone ``{{$.inputs.parameters['lr']}}`` or
``{inputValue: lr}`` makes it fail with a parse error at run time.

Fix (unsafe, the key is guessed from the input's name): a lone placeholder or v1 structure becomes
``name=<placeholder>``. Plain literals get no fix.

    # bad
    args: ["{{$.inputs.parameters['epochs']}}"]
    # good
    args: ["trainer.max_epochs={{$.inputs.parameters['epochs']}}"]
"""

from __future__ import annotations

from collections.abc import Iterator

from hydra_yaml_lint.argshape import Shape, arg_shapes
from hydra_yaml_lint.component import Arg, Component
from hydra_yaml_lint.context import LintContext
from hydra_yaml_lint.diagnostic import Diagnostic, Fix
from hydra_yaml_lint.fixes import editable, replace_arg
from hydra_yaml_lint.rules._api import RuleInfo
from hydra_yaml_lint.rules.argparse_style import value_text

RULE = RuleInfo("HY002", "positional-arg", "error")


def _guessed_fix(component: Component, arg: Arg, value: str, name: str | None) -> Fix | None:
    if not name or not editable(arg):
        return None
    key = name.replace("-", "_")
    return Fix(f"rewrite as '{key}={value}'", (replace_arg(component, arg, f"{key}={value}"),), safe=False)


def check(component: Component, context: LintContext) -> Iterator[Diagnostic]:
    for shape in arg_shapes(component):
        if shape.shape is not Shape.POSITIONAL:
            continue
        arg = shape.arg
        start = component.source.span(arg.node)[0]
        fix = None
        if arg.struct is not None:
            shown = f"{{{arg.struct.key}: {arg.struct.name}}}"
            fix = _guessed_fix(component, arg, value_text(component, arg) or "", arg.struct.name)
        else:
            shown = arg.value or ""
            only = arg.placeholders[0] if len(arg.placeholders) == 1 else None
            if only is not None and only.start == 0 and only.end == len(shown) and only.is_io:
                fix = _guessed_fix(component, arg, value_text(component, arg) or shown, only.name)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        yield RULE.at(
            component, start, f"positional argument '{shown}' is not a Hydra override (key=value)", fix
        )
