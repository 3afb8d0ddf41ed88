"""Submit the compiled pipeline: shared options, preflight checks and polling, and one backend each in
:mod:`~pipeline_sdk.submit.vertex` and :mod:`~pipeline_sdk.submit.kfp` (credentials and failure messages, which
``publish`` uses too, are in :mod:`pipeline_sdk.cloud`)."""

from pipeline_sdk.errors import (
    BackendApiError,
    CredentialsError,
    DeadlineExceeded,
    PreflightError,
    RunFailed,
    SubmitError,
)
from pipeline_sdk.submit.kfp import submit_to_kfp
from pipeline_sdk.submit.options import SubmitOptions, VertexOptions
from pipeline_sdk.submit.polling import RunStatus, wait_for_run
from pipeline_sdk.submit.vertex import (
    VertexRequest,
    VertexSettings,
    build_request,
    console_url,
    submit_to_vertex,
)

__all__ = [
    "BackendApiError",
    "CredentialsError",
    "DeadlineExceeded",
    "PreflightError",
    "RunFailed",
    "RunStatus",
    "SubmitError",
    "SubmitOptions",
    "VertexOptions",
    "VertexRequest",
    "VertexSettings",
    "build_request",
    "console_url",
    "submit_to_kfp",
    "submit_to_vertex",
    "wait_for_run",
]
