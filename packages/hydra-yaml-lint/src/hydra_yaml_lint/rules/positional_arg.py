"""HY002 positional-arg: a bare value or placeholder that is not a ``key=value`` override.

Hydra reads every command-line argument as an override; a lone ``{{$.inputs.parameters['lr']}}`` or
``{inputValue: lr}`` makes it fail with a parse error at run time.

Checked for Hydra apps only (see the README's "Hydra gate").

Fix (unsafe, the key is guessed from the input's name): a lone placeholder or v1 structure becomes
``name=<placeholder>``. Plain literals get no fix. Fixes are all or nothing per argument list, together
with HY001's (see there).

    # bad
    args: ["{{$.inputs.parameters['epochs']}}"]
    # good
    args: ["trainer.max_epochs={{$.inputs.parameters['epochs']}}"]
"""

from __future__ import annotations

from collections.abc import Iterator

from hydra_yaml_lint.argshape import Shape, arg_shapes
from hydra_yaml_lint.component import Component
from hydra_yaml_lint.context import LintContext
from hydra_yaml_lint.diagnostic import Diagnostic
from hydra_yaml_lint.placeholders import clip
from hydra_yaml_lint.rules._api import RuleInfo
from hydra_yaml_lint.rules._argument_list import fix_for

RULE = RuleInfo("HY002", "positional-arg", "error", hydra_only=True)


def check(component: Component, context: LintContext) -> Iterator[Diagnostic]:
    for shape in arg_shapes(component):
        if shape.shape is not Shape.POSITIONAL:
            continue
        arg = shape.arg
        start = component.source.span(arg.node)[0]
        shown = f"{{{arg.struct.key}: {arg.struct.name}}}" if arg.struct is not None else arg.value or ""
        yield RULE.at(
            component,
            start,
            f"positional argument '{clip(shown)}' is not a Hydra override (key=value)",
            fix_for(component, arg),
        )
