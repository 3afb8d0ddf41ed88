"""The rule registry: code -> rule module. Each module's docstring is that rule's documentation.

To add a rule: write ``rules/<snake_name>.py`` with ``RULE = RuleInfo(code, kebab-name, severity)`` (and
``hydra_only=True`` when it only makes sense for a Hydra app), a ``check(component, context)`` generator
and a docstring, add it to ``_MODULES`` below, and add golden cases under ``tests/golden/<kebab-name>/``.
"""

from __future__ import annotations

from types import ModuleType
from typing import cast

from hydra_yaml_lint.rules import (
    argparse_style,
    config_error,
    duplicate_override,
    invalid_override,
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

# Reported by the linter itself rather than by a rule module.
INVALID_YAML = RuleInfo("HY900", "invalid-yaml", "error")
INVALID_COMPONENT = RuleInfo("HY901", "invalid-component", "error")
BUILTIN: dict[str, RuleInfo] = {INVALID_YAML.code: INVALID_YAML, INVALID_COMPONENT.code: INVALID_COMPONENT}

ALL_RULES: dict[str, RuleInfo] = {**{code: rule.RULE for code, rule in RULES.items()}, **BUILTIN}

__all__ = ["ALL_RULES", "BUILTIN", "INVALID_COMPONENT", "INVALID_YAML", "RULES", "Rule", "RuleInfo"]
