"""HY001 argparse-style-arg: ``--name value``, ``--name=value`` or ``-x`` in a Hydra component.

A Hydra entry point takes overrides (``name=value``); argparse flags make it exit with
"unrecognized arguments" only after Vertex has provisioned the machine. Vertex's own documentation
shows the argparse form (``--lr``, ``{inputValue: lr}``), so it is the most common mistake.

Checked for Hydra apps only (see the README's "Hydra gate"): an argparse program's flags are its own.

Fix: ``--name VALUE`` and ``--name=VALUE`` become ``name=VALUE``, with v1 structures rewritten as v2
placeholders (``{inputValue: lr}`` -> ``{{$.inputs.parameters['lr']}}``) and string parameters wrapped in
Hydra quotes. The fix is unsafe when the key is a guess: a dashed flag (``--learning-rate`` could mean
``learning_rate`` or ``learning-rate``) or a value-less switch (``--verbose`` -> ``verbose=true``).
Hydra's own flags (``--config-name``, ``-m``, ...) are not reported; short flags get no fix. Fixes are
all or nothing per argument list, together with HY002's: one fix, on the first finding, rewrites every
argparse-style and positional argument, and only when each of them can be rewritten.

    # bad
    args: [--lr, {inputValue: lr}]
    # good
    args: ["lr={{$.inputs.parameters['lr']}}"]
"""

from __future__ import annotations

from collections.abc import Iterator

from hydra_yaml_lint.argshape import Shape, arg_shapes
from hydra_yaml_lint.component import Component
from hydra_yaml_lint.context import LintContext
from hydra_yaml_lint.diagnostic import Diagnostic
from hydra_yaml_lint.rules._api import RuleInfo
from hydra_yaml_lint.rules._argument_list import fix_for

RULE = RuleInfo("HY001", "argparse-style-arg", "error", hydra_only=True)


def check(component: Component, context: LintContext) -> Iterator[Diagnostic]:
    for shape in arg_shapes(component):
        if shape.shape not in (Shape.LONG_FLAG, Shape.SHORT_FLAG):
            continue
        start = component.source.span(shape.arg.node)[0]
        fix = fix_for(component, shape.arg)
        if shape.shape is Shape.SHORT_FLAG:
            message = f"short flag '-{shape.flag}' is not a Hydra override; use 'key=value'"
            yield RULE.at(component, start, message, fix)
            continue
        key = (shape.flag or "").replace("-", "_")
        yield RULE.at(
            component,
            start,
            f"argparse-style flag '--{shape.flag}' is not a Hydra override; use '{key}=...'",
            fix,
        )
