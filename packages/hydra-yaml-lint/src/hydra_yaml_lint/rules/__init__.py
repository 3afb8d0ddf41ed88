"""The rule registry: code -> rule module. Each module's docstring is that rule's documentation
(``--explain``), written like ruff's rule docs: a summary line ``CODE name: ...``, then the sections
``## What it does``, ``## Why is this bad?``, ``## Example`` (a component that triggers it), ``Use
instead:`` (one that does not) and ``## Fix safety``; a test lints both examples.

To add a rule: write ``rules/<snake_name>.py`` with ``RULE = RuleInfo(code, kebab-name, severity)`` (and
``hydra_only=True`` when it only makes sense for a Hydra app), a ``check(component, context)`` generator
and such a docstring, add it to ``_MODULES`` below, and add golden cases under
``tests/golden/<kebab-name>/``. HY900 and HY901 are reported by the linter itself while it reads a file;
their modules hold only ``RULE`` and the documentation.
"""

from __future__ import annotations

from types import ModuleType
from typing import cast

from hydra_yaml_lint.rules import (
    argparse_style,
    config_error,
    duplicate_override,
    invalid_component,
    invalid_override,
    invalid_yaml,
    malformed_placeholder,
    placeholder_quoting,
    positional_arg,
    sweep_override,
    undeclared_name,
    unknown_config_key,
    unused_input,
    wrong_direction,
    wrong_kind,
)
from hydra_yaml_lint.rules._api import Rule, RuleInfo

_MODULES: tuple[ModuleType, ...] = (
    argparse_style,
    positional_arg,
    placeholder_quoting,
    malformed_placeholder,
    undeclared_name,
    wrong_direction,
    wrong_kind,
    invalid_override,
    sweep_override,
    duplicate_override,
    unknown_config_key,
    config_error,
    unused_input,
)
# a module satisfies the Rule protocol (RULE, check, docstring); the type checker cannot see that
RULES: dict[str, Rule] = {module.RULE.code: cast(Rule, module) for module in _MODULES}

# Reported by the linter itself rather than by a rule's check.
INVALID_YAML: RuleInfo = invalid_yaml.RULE
INVALID_COMPONENT: RuleInfo = invalid_component.RULE
BUILTIN: dict[str, RuleInfo] = {INVALID_YAML.code: INVALID_YAML, INVALID_COMPONENT.code: INVALID_COMPONENT}

ALL_RULES: dict[str, RuleInfo] = {**{code: rule.RULE for code, rule in RULES.items()}, **BUILTIN}
# code -> documentation (`--explain`), every rule's
DOCS: dict[str, str] = {
    module.RULE.code: (module.__doc__ or "").strip()
    for module in (*_MODULES, invalid_yaml, invalid_component)
}

__all__ = ["ALL_RULES", "BUILTIN", "DOCS", "INVALID_COMPONENT", "INVALID_YAML", "RULES", "Rule", "RuleInfo"]
