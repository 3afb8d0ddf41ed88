"""The connection to Vertex AI: credentials, ``aiplatform.init``, and every failure as one error line.

Credentials are Application Default Credentials (on Vertex AI Pipelines: the run's service account). The
REST transport is used everywhere: it is what reaches a loopback test server over plain HTTP
(``api_endpoint=http://127.0.0.1:PORT``), so the tests drive the same code path as production.
aiplatform is imported here only, lazily: it takes about three seconds.
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from collections.abc import Iterator
from typing import Any

from model_registry.errors import RegistryError, one_line
from model_registry.settings import Service

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
_REQUEST_PREFIX = re.compile(r"^(?:GET|POST|PUT|PATCH|DELETE) \S+: ")


def _describe(exc: BaseException) -> str:
    """An exception from google-api-core, google-auth, requests or the SDK, as one short phrase."""
    from google.api_core import exceptions as api
    from google.auth import exceptions as auth

    if isinstance(exc, api.GoogleAPICallError):
        # the REST transport puts "METHOD URL: " before the service's message
        return f"{exc.code} {type(exc).__name__}: {_REQUEST_PREFIX.sub('', str(exc.message))}"
    if isinstance(exc, api.RetryError):
        cause = f" (last: {_describe(exc.cause)})" if exc.cause is not None else ""
        return f"gave up retrying: {exc.message}{cause}"
    if isinstance(exc, auth.DefaultCredentialsError):
        return (
            "no Google credentials found (Application Default Credentials): set GOOGLE_APPLICATION_CREDENTIALS "
            "to a key file or run `gcloud auth application-default login`; on Vertex AI the pipeline's "
            f"service account is used ({exc})"
        )
    if isinstance(exc, auth.GoogleAuthError):
        return f"cannot get an access token: {exc}"
    return f"{type(exc).__name__}: {exc}" if not isinstance(exc, ValueError) else str(exc)


def _failures() -> tuple[type[BaseException], ...]:
    import requests
    from google.api_core import exceptions as api
    from google.auth import exceptions as auth

    return (api.GoogleAPIError, auth.GoogleAuthError, requests.RequestException, ValueError)


@contextlib.contextmanager
def service_errors(doing: str) -> Iterator[None]:
    """Turn what the SDK, the transport and the credentials raise while ``doing`` into :class:`RegistryError`."""
    try:
        yield
    except RegistryError:
        raise
    except _failures() as exc:
        raise RegistryError(one_line(f"{doing}: {_describe(exc)}")) from None


def default_credentials() -> Any:
    """Application Default Credentials for the cloud-platform scope (Vertex AI and Cloud Storage)."""
    with service_errors("Application Default Credentials"):
        import google.auth

        credentials, _ = google.auth.default(scopes=list(SCOPES))
    return credentials


def connect(where: Service) -> Any:
    """``aiplatform``, initialised for ``where`` with Application Default Credentials over REST."""
    credentials = default_credentials()
    with service_errors("connecting to Vertex AI"):
        # the SDK logs each call at INFO on stderr and may warn about versions; the steps print their own
        # one-line progress, and an error stays one line
        logging.disable(logging.INFO)
        warnings.filterwarnings("ignore", module=r"(google|vertexai|proto)(\.|$)")
        from google.cloud import aiplatform

        aiplatform.init(
            project=where.project,
            location=where.location,
            credentials=credentials,
            api_endpoint=where.api_endpoint,
            api_transport="rest",
        )
    return aiplatform


def not_found(call: Any, *args: Any, **kwargs: Any) -> Any:
    """``call(*args, **kwargs)``, or None when the service answers 404 NOT_FOUND."""
    from google.api_core import exceptions as api

    try:
        return call(*args, **kwargs)
    except api.NotFound:
        return None


__all__ = ["connect", "default_credentials", "not_found", "service_errors"]
