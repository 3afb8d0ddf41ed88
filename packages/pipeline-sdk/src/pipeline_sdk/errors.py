"""Errors that the CLI reports as one line on stderr (no traceback).

Every expected failure raises a subclass of :class:`SdkError`; the command boundary every subcommand
runs in (:func:`pipeline_sdk.commands.common.run_command`) prints ``pipeline-sdk <command>: error: <message>``
and returns ``exit_code``.
"""

from __future__ import annotations

from pathlib import Path


def one_line(text: object) -> str:
    """``text`` (an exception, an API message spanning lines) with its whitespace collapsed to one line."""
    return " ".join(str(text).split())


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


class StepFailed(LocalRunError):
    """A step of a local run failed. The message quotes the tail of its log; :attr:`summary` is the one line
    without it (for ``run.json`` and a sweep's trial line)."""

    def __init__(self, step: str, reason: str, log: Path | None = None, tail: str = "") -> None:
        self.step, self.reason, self.log = step, reason, log
        super().__init__(self.summary + (f"; last lines of {log}:\n{tail}" if log is not None else ""))

    @property
    def summary(self) -> str:
        return f"step {self.step!r} {self.reason}"


class ImageBuildError(SdkError):
    """A component image cannot be found, built, inspected or pushed."""


class LockError(SdkError):
    """The image lock file (``images.lock_file``) exists but cannot be used; each command says which key or
    step it was reading it for."""


class SubmitError(SdkError):
    """Submitting, publishing or waiting failed."""


class CredentialsError(SubmitError):
    """No usable Google Cloud credentials."""


class PreflightError(SubmitError):
    """A check made before sending anything failed (region, accelerator, pipeline root, images, bucket)."""


class BackendApiError(SubmitError):
    """The Vertex AI, Kubeflow Pipelines or registry API answered with an error, or could not be reached."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        #: worth asking again (HTTP 429/5xx, connection dropped): ``--wait`` polls through these
        self.transient = transient


class DeadlineExceeded(SubmitError):
    """A network wait ran past its timeout."""


class RunFailed(SubmitError):
    """The submitted run ended FAILED or CANCELLED."""


class RunNotFound(SubmitError):
    """``pipeline-sdk runs show|cancel RUN``: the backend has no such run."""


class RunAlreadyEnded(SubmitError):
    """``pipeline-sdk runs cancel RUN``: the run has already ended, there is nothing to cancel."""


__all__ = [
    "BackendApiError",
    "CompileError",
    "ConfigError",
    "CredentialsError",
    "DeadlineExceeded",
    "ImageBuildError",
    "LocalRunError",
    "LockError",
    "ParameterError",
    "PreflightError",
    "RunAlreadyEnded",
    "RunFailed",
    "RunNotFound",
    "SdkError",
    "StepFailed",
    "SubmitError",
    "UsageError",
    "one_line",
]
