"""Errors raised while submitting: each carries one readable line for the CLI to print."""

from __future__ import annotations

from pipeline_sdk.errors import SdkError


class SubmitError(SdkError):
    """Submitting or waiting failed; ``str(error)`` is the whole message for the user."""


class CredentialsError(SubmitError):
    """No usable Google Cloud credentials."""


class PreflightError(SubmitError):
    """A check made before sending anything failed (region, accelerator, pipeline root, images, bucket)."""


class BackendApiError(SubmitError):
    """The Vertex AI, Kubeflow Pipelines or registry API answered with an error."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        #: worth asking again (HTTP 429/5xx, connection dropped): ``--wait`` polls through these
        self.transient = transient


class DeadlineExceeded(SubmitError):
    """A network wait ran past its timeout."""


class RunFailed(SubmitError):
    """The submitted run ended FAILED or CANCELLED."""
