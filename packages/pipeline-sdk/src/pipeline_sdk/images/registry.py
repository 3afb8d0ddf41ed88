"""What a registry already holds under a tag: the config digest of the image it names, if any.

The config digest (the image ID) is compared rather than the manifest digest because the manifest digest
changes with layer compression when a local image is pushed, while the config digest does not.
"""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

from pipeline_sdk.errors import ImageBuildError
from pipeline_sdk.images.builders import Builder
from pipeline_sdk.images.reference import ImageRef

_NOT_FOUND = re.compile(r"manifest unknown|name unknown|not found|NOT_FOUND|404", re.IGNORECASE)
#: manifest media types: an index (several platforms' images) and a single image's manifest, OCI and Docker
INDEX_MEDIA_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
IMAGE_MEDIA_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)


def _raw_manifest(builder: Builder, reference: str) -> dict[str, Any] | None:
    argv = builder.remote_manifest_command(reference)
    if argv is None:
        raise ImageBuildError(
            f"cannot check whether {reference} already exists in its registry: {builder.name} needs skopeo "
            "for that (apt-get install skopeo); or pass --force to push without the check"
        )
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ImageBuildError(f"cannot inspect {reference} in its registry: {e}") from None
    if proc.returncode != 0:
        if _NOT_FOUND.search(proc.stderr):
            return None
        detail = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
        raise ImageBuildError(f"cannot inspect {reference} in its registry: {detail}")
    try:
        manifest = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise ImageBuildError(f"{' '.join(argv[:3])} printed no manifest JSON for {reference}") from None
    if not isinstance(manifest, dict):
        raise ImageBuildError(f"the registry returned no image manifest for {reference}")
    return manifest


def remote_config_digest(builder: Builder, reference: str, platform: str = "linux/amd64") -> str | None:
    """The config digest of the image ``reference`` names in its registry; None if the tag is absent.

    An index (multi-platform image) resolves to its ``platform`` entry.
    """
    manifest = _raw_manifest(builder, reference)
    if manifest is None:
        return None
    if manifest.get("mediaType") in INDEX_MEDIA_TYPES or "manifests" in manifest:
        os_name, arch = platform.split("/", 1)
        entries = [
            m
            for m in manifest.get("manifests", [])
            if m.get("platform", {}).get("os") == os_name
            and m.get("platform", {}).get("architecture") == arch
        ]
        if not entries:
            raise ImageBuildError(f"{reference} in its registry has no {platform} image")
        manifest = _raw_manifest(builder, ImageRef.parse(reference).with_digest(entries[0]["digest"]))
        if manifest is None:
            raise ImageBuildError(f"{reference} in its registry lists a {platform} image it does not hold")
    digest = manifest.get("config", {}).get("digest")
    if not isinstance(digest, str):
        raise ImageBuildError(f"the registry's manifest for {reference} names no config digest")
    return digest
