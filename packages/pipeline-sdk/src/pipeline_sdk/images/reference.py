"""Image references: validate a registry and form ``<registry>/<package>:<version>``."""

from __future__ import annotations

import re

from pipeline_sdk.images.errors import ImageBuildError

# The grammar of distribution/reference: an optional host[:port], then lowercase path components.
_HOST = (
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?)"
)
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REGISTRY = re.compile(rf"^{_HOST}(?:/{_COMPONENT})*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


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


def image_tag(registry: str, package: str, version: str) -> str:
    """``<registry>/<package>:<version>``; the version must be a valid tag."""
    if not _TAG.match(version):
        raise ImageBuildError(f"{package} version {version!r} is not a valid image tag")
    return f"{normalize_registry(registry)}/{package}:{version}"
