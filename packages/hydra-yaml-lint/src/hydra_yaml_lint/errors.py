"""Every error type of the linter.

:class:`LintError` is the one that reaches the user as an error: the command line's error boundary
(:func:`hydra_yaml_lint.cli.main`) prints ``hydra-yaml-lint: <message>`` on stderr and exits with
``exit_code``; :func:`hydra_yaml_lint.lint_paths` raises it to API callers. The others never leave the
linter: a file that is not YAML or not a loadable component becomes a finding (HY900, HY901), a path that
cannot be read becomes one line of the run's report while the other files are still linted.

This module imports nothing, so every other module may import it (the CLI does before parsing its
arguments).
"""

from __future__ import annotations


class LintError(Exception):
    """A usage, I/O or configuration error. ``str(error)`` is the whole one-line message."""

    exit_code: int = 2


class UsageError(LintError):
    """Bad command-line usage: an unknown option, rule code or combination of options."""


class YamlParseError(Exception):
    """The text is not YAML (reported as HY900); ``line``/``column`` are 1-based."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


class ComponentError(Exception):
    """The file is a component but a field has a shape kfp refuses to load (reported as HY901);
    ``line``/``column`` (1-based) locate the field."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


class PathError(Exception):
    """The path cannot be linted (missing, unreadable, not a regular file); ``message`` is one line,
    without the path."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


__all__ = ["ComponentError", "LintError", "PathError", "UsageError", "YamlParseError"]
