"""Lint and fix Hydra-style KFP component and pipeline YAML.

    from hydra_yaml_lint import lint_paths
    for diagnostic in lint_paths(["configs/components"]):
        print(diagnostic)

The public names are imported on first use (PEP 562), so ``hydra-yaml-lint --version`` imports nothing
but argparse.
"""

from __future__ import annotations

from hydra_yaml_lint.__about__ import __version__

TYPE_CHECKING = False  # typing itself is not imported: it would slow down `--version`
if TYPE_CHECKING:
    from hydra_yaml_lint.diagnostic import Diagnostic, Edit, Fix, Severity
    from hydra_yaml_lint.errors import LintError
    from hydra_yaml_lint.linter import fix_text, lint_paths, lint_text
    from hydra_yaml_lint.settings import Settings

_EXPORTS = {
    "Diagnostic": "hydra_yaml_lint.diagnostic",
    "Edit": "hydra_yaml_lint.diagnostic",
    "Fix": "hydra_yaml_lint.diagnostic",
    "Severity": "hydra_yaml_lint.diagnostic",
    "fix_text": "hydra_yaml_lint.linter",
    "lint_paths": "hydra_yaml_lint.linter",
    "lint_text": "hydra_yaml_lint.linter",
    "LintError": "hydra_yaml_lint.errors",
    "Settings": "hydra_yaml_lint.settings",
}

__all__ = [
    "Diagnostic",
    "Edit",
    "Fix",
    "LintError",
    "Settings",
    "Severity",
    "__version__",
    "fix_text",
    "lint_paths",
    "lint_text",
]


def __getattr__(name: str) -> object:
    import importlib

    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hydra_yaml_lint' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
