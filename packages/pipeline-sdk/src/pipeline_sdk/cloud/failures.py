"""Network failures, each turned into one readable line that says what to do next.

Every remote call of submit, publish and the image check goes through here: :func:`reporting` maps a
timeout or an unreachable host (``requests``), :func:`describe` an API's error answer, and
:func:`call_with_deadline` bounds a library call that has no timeout of its own.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from pipeline_sdk.errors import BackendApiError, DeadlineExceeded, one_line

T = TypeVar("T")

_QUOTA_METRIC = re.compile(
    r"(?:aiplatform\.googleapis\.com/)?\b([a-z0-9_]+_(?:gpus|tpus|cpus|accelerators))\b"
)


#: HTTP statuses worth retrying when only reading (polling a run).
TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})


@contextmanager
def reporting(
    what: str, where: str, timeout: float, advice: str = "raise --timeout to wait longer"
) -> Iterator[None]:
    """Inside the block, a ``requests`` timeout becomes :class:`DeadlineExceeded` and any other transport
    failure a transient :class:`BackendApiError`, each one line: ``WHAT: WHERE did not answer ...``."""
    import requests

    prefix = f"{what}: " if what else ""
    try:
        yield
    except requests.exceptions.Timeout:
        raise DeadlineExceeded(f"{prefix}{where} did not answer within {timeout:g} s ({advice})") from None
    except requests.exceptions.RequestException as e:
        extra = "" if advice.startswith("raise --timeout") else f" ({advice})"
        raise BackendApiError(f"{prefix}cannot reach {where}: {one_line(e)}{extra}", transient=True) from None


@dataclass(frozen=True)
class ApiFailure:
    """What an API said, independent of the client library that received it."""

    code: int | None  # HTTP status
    status: str  # e.g. RESOURCE_EXHAUSTED
    message: str
    details: tuple[Mapping[str, Any], ...] = ()


def quota_metric(failure: ApiFailure) -> str | None:
    """The quota metric a 429 names (``custom_model_training_nvidia_l4_gpus``), from details or message."""
    for detail in failure.details:
        metadata = detail.get("metadata") or {}
        for key in ("quota_metric", "quotaMetric", "quota_limit_name", "quota_id"):
            if metadata.get(key):
                return str(metadata[key]).removeprefix("aiplatform.googleapis.com/")
        for violation in detail.get("violations") or ():
            found = _QUOTA_METRIC.search(f"{violation.get('subject', '')} {violation.get('description', '')}")
            if found:
                return found[1]
    found = _QUOTA_METRIC.search(failure.message)
    return found[1] if found else None


def describe(failure: ApiFailure, *, service: str, project: str, region: str | None = None) -> str:
    """One line for ``failure``: the status, the service's own message, and the usual fix."""
    code = f"{failure.code} {failure.status}".strip() if failure.code else failure.status or "error"
    said = one_line(failure.message) or "(no message)"
    where = f"project {project}" + (f", region {region}" if region else "")
    if failure.code == 403:
        hint = (
            f"the credentials lack permission in {where}: grant roles/aiplatform.user, and "
            "roles/iam.serviceAccountUser on gcp.service_account if one is set (who needs which role: "
            "docs/vertex.md#2-iam)"
        )
    elif failure.code == 404:
        hint = f"check gcp.project and gcp.region ({where}) and that the Vertex AI API is enabled there"
    elif failure.code == 429:
        metric = quota_metric(failure)
        what = f"quota {metric}" if metric else "a quota"
        hint = (
            f"{what} is exhausted in {where}: request more at "
            f"https://console.cloud.google.com/iam-admin/quotas?project={project}, or pick another region "
            "(gcp.region=...) or accelerator (steps.STEP.resources.accelerator_type=...); quotas a run "
            "needs: docs/vertex.md#4-quota-and-cost"
        )
    elif failure.code == 400 and re.search(r"accelerator|machine type", said, re.IGNORECASE):
        hint = (
            "this accelerator is not offered with this machine shape here: change "
            "the step's resources (steps.STEP.resources: accelerator_type, accelerator_count, cpu, "
            "memory) or gcp.region"
        )
    elif failure.code == 401:
        hint = "the access token was refused: run `gcloud auth application-default login` again"
    else:
        hint = ""
    return f"{service} refused the request ({code}): {said}" + (f" -> {hint}" if hint else "")


def failure_from_google(error: Any) -> ApiFailure:
    """Read a ``google.api_core.exceptions.GoogleAPICallError``: the JSON error body when the call went
    over REST (api_core prefixes its message with the method and URL), else what api_core parsed."""
    body = None
    response = getattr(error, "response", None)
    if response is not None and hasattr(response, "json"):
        try:
            body = response.json().get("error")
        except (ValueError, AttributeError):
            body = None
    if isinstance(body, Mapping):
        details = tuple(d for d in body.get("details") or () if isinstance(d, Mapping))
        return ApiFailure(
            body.get("code") or error.code, str(body.get("status", "")), str(body.get("message", "")), details
        )
    grpc_status = getattr(error, "grpc_status_code", None)
    status = grpc_status.name if grpc_status is not None else ""
    dicts: tuple[Mapping[str, Any], ...] = ()
    if getattr(error, "metadata", None):  # the ErrorInfo detail's metadata, parsed by api_core
        dicts = ({"metadata": dict(error.metadata)},)
    message = re.sub(r"^[A-Z]+ \S+: ", "", str(getattr(error, "message", error)))
    return ApiFailure(getattr(error, "code", None), status, message, dicts)


def call_with_deadline(fn: Callable[[], T], seconds: float, what: str) -> T:
    """Return ``fn()``, or raise :class:`DeadlineExceeded` naming ``what`` after ``seconds``.

    The call runs in a daemon thread: libraries such as kfp's generated API client open sockets with no
    timeout, so the only way to bound them from outside is to stop waiting; the CLI then exits, and the
    abandoned thread dies with the process.
    """
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as e:  # re-raised in the caller's thread
            outcome["error"] = e

    thread = threading.Thread(target=target, name=f"deadline: {what}", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise DeadlineExceeded(f"{what}: no answer within {seconds:g} s (raise --timeout to wait longer)")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
