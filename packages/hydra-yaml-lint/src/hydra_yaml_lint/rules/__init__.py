"""The rule registry: code -> rule module. Each module's docstring is that rule's documentation.

To add a rule: write ``rules/<name>.py`` with ``RULE = RuleInfo(code, kebab-name, severity)``, a
``check(component, context)`` generator and a docstring, add it to ``RULES`` below, and add golden
cases under ``tests/golden/<name>/``.
"""

from __future__ import annotations

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

_MODULES: tuple[Rule, ...] = (
    argparse_style,  # type: ignore[assignment]
    positional_arg,  # type: ignore[assignment]
    placeholder_quoting,  # type: ignore[assignment]
    malformed_placeholder,  # type: ignore[assignment]
    undeclared_name,  # type: ignore[assignment]
    wrong_direction,  # type: ignore[assignment]
    wrong_kind,  # type: ignore[assignment]
    invalid_override,  # type: ignore[assignment]
    sweep_override,  # type: ignore[assignment]
    duplicate_override,  # type: ignore[assignment]
    unknown_config_key,  # type: ignore[assignment]
    config_error,  # type: ignore[assignment]
    unused_input,  # type: ignore[assignment]
)
RULES: dict[str, Rule] = {module.RULE.code: module for module in _MODULES}

# Reported by the linter itself rather than by a rule module.
INVALID_YAML = RuleInfo("HY900", "invalid-yaml", "error")
INVALID_COMPONENT = RuleInfo("HY901", "invalid-component", "error")
BUILTIN: dict[str, RuleInfo] = {INVALID_YAML.code: INVALID_YAML, INVALID_COMPONENT.code: INVALID_COMPONENT}

ALL_RULES: dict[str, RuleInfo] = {**{code: rule.RULE for code, rule in RULES.items()}, **BUILTIN}

__all__ = ["ALL_RULES", "BUILTIN", "INVALID_COMPONENT", "INVALID_YAML", "RULES", "Rule", "RuleInfo"]
