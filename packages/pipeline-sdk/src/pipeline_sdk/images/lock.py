"""The image lock: which image (and digest) was built for which package version.

File format (JSON, written by `pipeline-sdk build-images`, read by `pipeline-sdk compile`)::

    {"version": 1,
     "images": {"trainer": {"repository": "REGISTRY/trainer", "tag": "0.1.0",
                            "digest": "sha256:...", "pushed": true, "image_id": "sha256:..."}}}

``digest`` is the registry's manifest digest, known once the image was pushed (the one to pin);
``image_id`` is the config digest of the local build (the same wherever the image is stored).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pipeline_sdk.files import write_text_atomic

LOCK_FORMAT_VERSION = 1


class LockError(ValueError):
    """The image lock file exists but cannot be used."""


@dataclass(frozen=True)
class LockedImage:
    """One built image: ``repository:tag``, its registry digest once pushed, and its local image ID."""

    repository: str
    tag: str
    digest: str | None = None
    pushed: bool = False
    image_id: str | None = None

    @property
    def tagged(self) -> str:
        return f"{self.repository}:{self.tag}"

    @property
    def pinned(self) -> str:
        """The most precise reference: by digest when one is recorded."""
        return f"{self.repository}@{self.digest}" if self.digest else self.tagged


@dataclass
class ImageLock:
    """All locked images, keyed by package (distribution) name."""

    images: dict[str, LockedImage] = field(default_factory=dict)

    def to_json(self) -> str:
        body = {
            "version": LOCK_FORMAT_VERSION,
            "images": {k: asdict(v) for k, v in sorted(self.images.items())},
        }
        return json.dumps(body, indent=2) + "\n"

    def save(self, path: Path) -> None:
        """Write atomically: a reader never sees a half-written lock."""
        write_text_atomic(path, self.to_json())


def load_lock(path: Path) -> ImageLock:
    """Read the lock at ``path``; a missing file is an empty lock."""
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        return ImageLock()
    except (OSError, json.JSONDecodeError) as e:
        raise LockError(f"cannot read image lock {path}: {e}") from None
    if (
        not isinstance(raw, dict)
        or raw.get("version") != LOCK_FORMAT_VERSION
        or not isinstance(raw.get("images"), dict)
    ):
        raise LockError(f"{path} is not an image lock (version {LOCK_FORMAT_VERSION})")
    images = {}
    for name, entry in raw["images"].items():
        try:
            images[name] = LockedImage(**entry)
        except TypeError as e:
            raise LockError(f"{path}: bad entry for {name!r}: {e}") from None
    return ImageLock(images)


def image_reference(lock: ImageLock | None, registry: str, package: str, version: str) -> str:
    """``<registry>/<package>@<digest>`` when the lock holds this exact tag with a digest, else ``:<version>``."""
    repository = f"{registry.rstrip('/')}/{package}"
    entry = lock.images.get(package) if lock else None
    if entry and entry.repository == repository and entry.tag == version and entry.digest:
        return entry.pinned
    return f"{repository}:{version}"
