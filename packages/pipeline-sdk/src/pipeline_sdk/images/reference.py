"""Image references, the one parser: ``[HOST[:PORT]/]PATH[:TAG][@DIGEST]`` as Docker reads it, a
registry prefix, and ``<registry>/<package>:<version>``.

A component YAML's ``image:`` that has no ``/`` and no ``:`` names a Python distribution
(:func:`is_package_name`); compile replaces it with the package's image reference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline_sdk.errors import ImageBuildError

# The grammar of distribution/reference: an optional host[:port], then lowercase path components.
_HOST = (
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?)"
)
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REGISTRY = re.compile(rf"^{_HOST}(?:/{_COMPONENT})*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def is_repository(text: str) -> bool:
    """``HOST[:PORT]/PATH`` (lowercase path components), as a registry or an image's repository."""
    return bool(_REGISTRY.match(text)) and "/" in text


def is_tag(text: str) -> bool:
    return bool(_TAG.match(text))


def is_digest(text: str) -> bool:
    """``sha256:`` and 64 lowercase hex digits."""
    return bool(_DIGEST.match(text))


_LOOPBACK = ("localhost", "127.0.0.1", "[::1]")
_DOCKER_HUB = "registry-1.docker.io"


def is_package_name(image: str) -> bool:
    """``True`` for a component ``image:`` that names a distribution (``trainer``), not an image."""
    return "/" not in image and ":" not in image and "@" not in image


@dataclass(frozen=True)
class ImageRef:
    """``host/repository:tag`` or ``host/repository@digest``, split as Docker does."""

    host: str
    repository: str
    tag: str | None
    digest: str | None

    @classmethod
    def parse(cls, image: str) -> ImageRef:
        name, _, digest = image.partition("@")
        last = name.rsplit("/", 1)[-1]
        tag = None
        if ":" in last:
            name, tag = name.rsplit(":", 1)
        host, _, repository = name.partition("/")
        if not repository or not ("." in host or ":" in host or host == "localhost"):
            host, repository = _DOCKER_HUB, name if "/" in name else f"library/{name}"
        return cls(host, repository, tag, digest or None)

    @property
    def reference(self) -> str:
        """What the registry API names the manifest by: the digest, else the tag (``latest`` if none)."""
        return self.digest or self.tag or "latest"

    @property
    def local_only(self) -> bool:
        """``localhost/NAME`` (no port) names local image storage (buildah, podman), not a registry."""
        return self.host == "localhost"

    @property
    def manifest_url(self) -> str:
        # Registries on the loopback interface serve plain HTTP, as Docker's own rule for them assumes.
        scheme = "http" if self.host.split(":")[0] in _LOOPBACK or self.host.startswith("[::1]") else "https"
        return f"{scheme}://{self.host}/v2/{self.repository}/manifests/{self.reference}"

    def with_digest(self, digest: str) -> str:
        """This repository pinned to ``digest``: ``host/repository@digest``."""
        host = "" if self.host == _DOCKER_HUB else f"{self.host}/"
        return f"{host}{self.repository}@{digest}"


def normalize_registry(registry: str) -> str:
    """``registry`` without a trailing slash; a clear error for a scheme, uppercase path or empty value."""
    value = registry.strip().rstrip("/")
    if "://" in value:
        raise ImageBuildError(
            f"registry {registry!r}: write it without a scheme, e.g. {value.split('://', 1)[1]}"
        )
    if not value or not _REGISTRY.match(value):
        raise ImageBuildError(
            f"registry {registry!r} is not HOST[:PORT][/PATH...] with a lowercase path, "
            "e.g. us-central1-docker.pkg.dev/my-project/my-repo"
        )
    return value


def image_repository(registry: str, package: str) -> str:
    """``<registry>/<package>``: where a component package's images go."""
    return f"{normalize_registry(registry)}/{package}"


def image_tag(registry: str, package: str, version: str) -> str:
    """``<registry>/<package>:<version>``; the version must be a valid tag."""
    if not _TAG.match(version):
        raise ImageBuildError(f"{package} version {version!r} is not a valid image tag")
    return f"{image_repository(registry, package)}:{version}"
