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
import os
import stat
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pipeline_sdk.atomic import write_text
from pipeline_sdk.errors import LockError
from pipeline_sdk.images.reference import image_repository, image_tag, is_digest, is_repository, is_tag

LOCK_FORMAT_VERSION = 1


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
        write_text(path, self.to_json())


#: a lock lists a few images; anything larger is not one
MAX_LOCK_BYTES = 1 << 20


def _read(path: Path) -> str | None:
    """The lock's text; None when there is no file. Only a regular file is read (never a FIFO or device)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise LockError(f"image lock {path} is not a regular file")
        data = f.read(MAX_LOCK_BYTES + 1)
    if len(data) > MAX_LOCK_BYTES:
        raise LockError(f"image lock {path} is larger than {MAX_LOCK_BYTES} bytes")
    return data.decode()


_FIELDS = {"repository", "tag", "digest", "pushed", "image_id"}


def _entry(path: Path, name: str, entry: object) -> LockedImage:
    """One ``images`` entry, checked field by field."""
    problem = None
    if not isinstance(entry, dict):
        problem = "not an object"
    elif set(entry) - _FIELDS:
        problem = f"unknown keys {sorted(map(str, set(entry) - _FIELDS))}"
    elif not isinstance(entry.get("repository"), str) or not is_repository(entry["repository"]):
        problem = f"repository {entry.get('repository')!r} is not HOST/PATH"
    elif not isinstance(entry.get("tag"), str) or not is_tag(entry["tag"]):
        problem = f"tag {entry.get('tag')!r} is not an image tag"
    elif not isinstance(entry.get("pushed", False), bool):
        problem = f"pushed {entry.get('pushed')!r} is not true or false"
    else:
        for key in ("digest", "image_id"):
            value = entry.get(key)
            if value is not None and not (isinstance(value, str) and is_digest(value)):
                problem = f"{key} {value!r} is not sha256: and 64 hex digits"
    if problem:
        raise LockError(f"{path}: the entry for {name!r}: {problem}")
    assert isinstance(entry, dict)
    return LockedImage(**entry)


def load_lock(path: Path) -> ImageLock:
    """Read the lock at ``path``; a missing file is an empty lock. Every field is checked (a digest is
    ``sha256:`` and 64 hex digits), so nothing but an image reference reaches a compiled spec."""
    try:
        text = _read(path)
        raw = json.loads(text) if text is not None else None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        reason = "nested too deeply" if isinstance(e, RecursionError) else getattr(e, "strerror", None) or e
        raise LockError(f"cannot read image lock {path}: {reason}") from None
    if raw is None:
        return ImageLock()
    if (
        not isinstance(raw, dict)
        or raw.get("version") != LOCK_FORMAT_VERSION
        or not isinstance(raw.get("images"), dict)
    ):
        raise LockError(f"{path} is not an image lock (version {LOCK_FORMAT_VERSION})")
    return ImageLock({str(name): _entry(path, str(name), entry) for name, entry in raw["images"].items()})


def image_reference(lock: ImageLock | None, registry: str, package: str, version: str) -> str:
    """``<registry>/<package>@<digest>`` when the lock holds this exact tag with a digest, else ``:<version>``."""
    entry = lock.images.get(package) if lock else None
    if (
        entry
        and entry.repository == image_repository(registry, package)
        and entry.tag == version
        and entry.digest
    ):
        return entry.pinned
    return image_tag(registry, package, version)
