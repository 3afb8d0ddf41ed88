"""Submit the compiled pipeline to Vertex AI Pipelines or Kubeflow Pipelines, and publish templates."""

from pipeline_sdk.submit.errors import (
    BackendApiError,
    CredentialsError,
    DeadlineExceeded,
    PreflightError,
    RunFailed,
    SubmitError,
)
from pipeline_sdk.submit.options import SubmitOptions
from pipeline_sdk.submit.polling import RunStatus, wait_for_run
from pipeline_sdk.submit.publish import publish_template
from pipeline_sdk.submit.to_kfp import submit_to_kfp
from pipeline_sdk.submit.to_vertex import submit_to_vertex
from pipeline_sdk.submit.vertex import VertexRequest, VertexSettings, build_request, console_url

__all__ = [
    "BackendApiError",
    "CredentialsError",
    "DeadlineExceeded",
    "PreflightError",
    "RunFailed",
    "RunStatus",
    "SubmitError",
    "SubmitOptions",
    "VertexRequest",
    "VertexSettings",
    "build_request",
    "console_url",
    "publish_template",
    "submit_to_kfp",
    "submit_to_vertex",
    "wait_for_run",
]
