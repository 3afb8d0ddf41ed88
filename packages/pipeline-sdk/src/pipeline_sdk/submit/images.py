"""Can the backend pull every image? Checked by ``submit`` unless ``--no-check-images``.

``localhost/...`` names an image in this machine's local image storage (buildah, podman), which no backend
can pull: refused outright, ``--dry-run`` included. Every other tag or digest is looked up in its registry
(Docker Registry HTTP API v2, with the submit credentials): a registry that says it does not hold it stops
the submission; one that cannot be asked (no permission, unreachable) is reported and the check moves on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pipeline_sdk.submit.api_errors import one_line
from pipeline_sdk.submit.errors import PreflightError

_MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
_LOOPBACK = ("localhost", "127.0.0.1", "[::1]")
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class ImageRef:
    """``host/repository:tag`` or ``host/repository@digest``, split."""

    host: str
    repository: str
    reference: str

    @classmethod
    def parse(cls, image: str) -> ImageRef:
        name, sep, digest = image.partition("@")
        if not sep:
            last = name.rsplit("/", 1)[-1]
            name, digest = name.rsplit(":", 1) if ":" in last else (name, "latest")
        host, _, repository = name.partition("/")
        if not repository or not ("." in host or ":" in host or host == "localhost"):
            host, repository = "registry-1.docker.io", name if "/" in name else f"library/{name}"
        return cls(host, repository, digest)

    @property
    def manifest_url(self) -> str:
        # Registries on the loopback interface serve plain HTTP, as Docker's own rule for them assumes.
        scheme = "http" if self.host.split(":")[0] in _LOOPBACK or self.host.startswith("[::1]") else "https"
        return f"{scheme}://{self.host}/v2/{self.repository}/manifests/{self.reference}"


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


def local_only(image: str) -> bool:
    """``True`` for a reference into local image storage (``localhost/NAME``, no port): not a registry."""
    return image.split("/", 1)[0] == "localhost" and "/" in image


def check_in_registries(images: Mapping[str, str], backend: str) -> None:
    """Raise :class:`PreflightError` naming every image that only exists in local storage."""
    local = [f"{package} ({image})" for package, image in sorted(images.items()) if local_only(image)]
    if local:
        raise PreflightError(
            f"{backend} cannot pull {', '.join(local)}: localhost/ names this machine's local image storage, "
            "not a registry; push the images with `pipeline-sdk build-images --registry REGISTRY --push` and "
            "set images.registry=REGISTRY (e.g. us-central1-docker.pkg.dev/PROJECT/REPO), or pass "
            "--no-check-images"
        )


def image_exists(ref: ImageRef, *, credentials: Any, session: Any, timeout: float) -> bool | None:
    """``True`` if the registry has the manifest, ``False`` if it answers 404, ``None`` if it cannot say."""
    headers = {"Accept": _MANIFEST_TYPES}
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


def check_images(
    images: Mapping[str, str], *, credentials: Any, timeout: float, note: Callable[[str], None]
) -> None:
    """Raise :class:`PreflightError` naming every image whose tag or digest its registry says it lacks;
    ``note`` each image that could not be looked up."""
    import requests

    missing = []
    with requests.Session() as session:
        for package, image in sorted(images.items()):
            ref = ImageRef.parse(image)
            try:
                found = image_exists(ref, credentials=credentials, session=session, timeout=timeout)
            except requests.exceptions.Timeout:
                note(f"image {image}: not checked, registry {ref.host} did not answer within {timeout:g} s")
                continue
            except requests.exceptions.RequestException as e:
                note(f"image {image}: not checked, cannot reach registry {ref.host}: {one_line(e)}")
                continue
            if found is None:
                note(
                    f"image {image}: not checked, registry {ref.host} refused to say (the credentials may "
                    "lack roles/artifactregistry.reader; the backend's own identity may still pull it)"
                )
            elif not found:
                missing.append(f"{package} ({image})")
    if missing:
        raise PreflightError(
            f"not in the registry: {', '.join(missing)}; build and push them with "
            "`pipeline-sdk build-images --push` (or pass --no-check-images)"
        )
