"""A registry's manifest API (Docker Registry HTTP API v2): does it hold an image's tag or digest, asked with
the user's Google credentials through Docker token auth."""

from __future__ import annotations

import re
from typing import Any

from pipeline_sdk.images.reference import ImageRef
from pipeline_sdk.images.registry import IMAGE_MEDIA_TYPES, INDEX_MEDIA_TYPES

_ACCEPT = ", ".join((*INDEX_MEDIA_TYPES, *IMAGE_MEDIA_TYPES))
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


def _bearer_token(challenge: str, credentials: Any, session: Any, timeout: float) -> str | None:
    """The registry token for a ``WWW-Authenticate: Bearer realm=...`` challenge (Docker token auth)."""
    if not challenge.lower().startswith("bearer "):
        return None
    params = dict(_CHALLENGE_PARAM.findall(challenge))
    realm = params.pop("realm", None)
    if not realm:
        return None
    token = getattr(credentials, "token", None)
    # Google registries take an OAuth access token as the password of user "oauth2accesstoken".
    auth = ("oauth2accesstoken", token) if token else None
    response = session.get(realm, params=params, auth=auth, timeout=timeout)
    if response.status_code != 200:
        return None
    body = response.json()
    return body.get("token") or body.get("access_token")


def image_exists(ref: ImageRef, *, credentials: Any, session: Any, timeout: float) -> bool | None:
    """``True`` if the registry has the manifest, ``False`` if it answers 404, ``None`` if it cannot say."""
    headers = {"Accept": _ACCEPT}
    response = session.head(ref.manifest_url, headers=headers, timeout=timeout)
    if response.status_code == 401:
        token = _bearer_token(response.headers.get("WWW-Authenticate", ""), credentials, session, timeout)
        if token:
            response = session.head(
                ref.manifest_url, headers={**headers, "Authorization": f"Bearer {token}"}, timeout=timeout
            )
    if response.status_code == 200:
        return True
    if response.status_code == 404:
        return False
    return None


__all__ = ["image_exists"]
