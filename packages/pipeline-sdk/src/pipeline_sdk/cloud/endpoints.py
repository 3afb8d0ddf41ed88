"""The endpoints a command sends an access token to: HTTPS, unless the host is this machine or the user
allows plain HTTP (``--allow-plain-http``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from pipeline_sdk.errors import PreflightError


def check_plain_http(url: str, what: str, *, allowed: bool) -> None:
    """Refuse to send credentials to an ``http://`` ``url`` that is not this machine, unless ``allowed``
    (``--allow-plain-http``); the loopback fakes and port-forwards stay plain."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme != "http" or allowed or host in ("localhost", "::1") or host.startswith("127."):
        return
    raise PreflightError(
        f"{what} {url} is plain HTTP: the access token would cross the network unencrypted; use https://, "
        "or pass --allow-plain-http for a network you trust"
    )


__all__ = ["check_plain_http"]
