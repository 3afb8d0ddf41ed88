"""Errors that the CLI reports as one line on stderr (no traceback).

Every expected failure raises a subclass of :class:`SdkError`; the command boundary every subcommand
runs in (:func:`pipeline_sdk.command_line.run_command`) prints ``pipeline-sdk <command>: error: <message>``
and returns ``exit_code``.
"""

from __future__ import annotations


class SdkError(Exception):
    """An expected, user-facing failure. ``str(error)`` is the whole message."""

    exit_code: int = 1


class UsageError(SdkError):
    """Bad command-line usage (unknown option, missing argument)."""

    exit_code = 2


class ConfigError(SdkError):
    """configs/pipeline.yaml (or an override of it) is missing, malformed or holds a bad value."""


class ParameterError(ConfigError):
    """A pipeline parameter value cannot reach the component verbatim."""


class CompileError(SdkError):
    """The component YAMLs or the pipeline cannot be compiled."""


class LocalRunError(SdkError):
    """A local pipeline run failed (a step exited non-zero, an output is missing, ...)."""


__all__ = ["CompileError", "ConfigError", "LocalRunError", "ParameterError", "SdkError", "UsageError"]
