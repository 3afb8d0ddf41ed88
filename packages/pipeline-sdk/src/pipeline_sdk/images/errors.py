"""The one error type of `pipeline-sdk build-images`."""

from __future__ import annotations

from pipeline_sdk.errors import SdkError


class ImageBuildError(SdkError):
    """A component image cannot be found, built, inspected or pushed; ``str()`` is the whole message."""
