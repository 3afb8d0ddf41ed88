"""Read-only, bounded check that the ``pipeline_root`` bucket exists and is readable.

Replaces what ``aiplatform.PipelineJob.submit()`` would do (probe, then create the bucket and grant the
service account access, retrying for minutes offline): pipeline-sdk never creates buckets or edits IAM.
"""

from __future__ import annotations

from typing import Any

from pipeline_sdk.submit.api_errors import one_line
from pipeline_sdk.submit.errors import DeadlineExceeded, PreflightError


def check_bucket(bucket: str, *, project: str, region: str, credentials: Any, timeout: float) -> None:
    """Raise :class:`PreflightError` unless ``gs://bucket`` exists and the credentials can read it."""
    import requests
    from google.api_core import exceptions as api_exceptions
    from google.cloud import storage

    client = storage.Client(project=project, credentials=credentials)
    try:
        client.bucket(bucket).reload(timeout=timeout, retry=None)
    except api_exceptions.NotFound:
        raise PreflightError(
            f"pipeline_root bucket gs://{bucket} does not exist; create it with "
            f"`gcloud storage buckets create gs://{bucket} --project={project} --location={region}` "
            "(pipeline-sdk never creates buckets or changes their IAM)"
        ) from None
    except api_exceptions.Forbidden as e:
        raise PreflightError(
            f"cannot read pipeline_root bucket gs://{bucket} (403: {one_line(e.message)}); grant the "
            "credentials storage.buckets.get on it, or pass --skip-bucket-check"
        ) from None
    except api_exceptions.GoogleAPICallError as e:
        raise PreflightError(f"checking pipeline_root bucket gs://{bucket} failed: {one_line(e)}") from None
    except requests.exceptions.Timeout:
        raise DeadlineExceeded(
            f"checking pipeline_root bucket gs://{bucket}: Cloud Storage did not answer within "
            f"{timeout:g} s (raise --timeout, or pass --skip-bucket-check)"
        ) from None
    except requests.exceptions.RequestException as e:
        raise PreflightError(
            f"cannot reach Cloud Storage to check gs://{bucket}: {one_line(e)} (or pass --skip-bucket-check)"
        ) from None
