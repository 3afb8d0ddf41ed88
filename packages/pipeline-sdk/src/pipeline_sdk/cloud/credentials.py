"""Application Default Credentials, loaded and proved usable before anything is sent."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from pipeline_sdk.errors import CredentialsError, one_line

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
HOW_TO_FIX = (
    "run `gcloud auth application-default login`, "
    "or set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file"
)


@dataclass(frozen=True)
class GoogleCredentials:
    """Refreshed credentials and the project they name (``None`` if they name none)."""

    credentials: Any
    project: str | None


def _reason(error: BaseException) -> str:
    # google.auth errors carry (message, response-dict) as args; the message is what a user can act on.
    first = error.args[0] if error.args else error
    return one_line(first) or type(error).__name__


def load_credentials(timeout: float) -> GoogleCredentials:
    """Find Application Default Credentials and fetch a token with them, bounded by ``timeout`` seconds.

    Fetching the token up front turns an expired login, a revoked key or an unreachable token endpoint
    into one :class:`CredentialsError` that says how to fix it, instead of a failure mid-submission.
    """
    import google.auth
    from google.auth import exceptions
    from google.auth.transport.requests import Request

    try:
        credentials, project = google.auth.default(scopes=[CLOUD_PLATFORM_SCOPE])
    except exceptions.DefaultCredentialsError as e:
        raise CredentialsError(f"no usable Google Cloud credentials ({_reason(e)}); {HOW_TO_FIX}") from None
    try:
        credentials.refresh(functools.partial(Request(), timeout=timeout))
    except exceptions.RefreshError as e:
        raise CredentialsError(
            f"Google Cloud credentials were rejected ({_reason(e)}); {HOW_TO_FIX}"
        ) from None
    except exceptions.TransportError as e:
        raise CredentialsError(
            f"could not fetch an access token within {timeout:g} s ({_reason(e)}); "
            f"check the network, or {HOW_TO_FIX}"
        ) from None
    return GoogleCredentials(credentials, project)
