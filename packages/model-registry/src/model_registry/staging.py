"""Stage a model at a local path in Cloud Storage, so that it can be registered.

Vertex AI reads a version's files from Cloud Storage only (``Model.artifactUri`` is a ``gs://`` URI), but
``pipeline-sdk run`` gives the model artifact a local path. With ``gcp.staging_uri`` (the pipeline root) the
directory's files go to ``<staging_uri>/registered-models/<model>/<digest>/``, ``digest`` being the first 16 hex
digits of the SHA-256 over the files' names and contents: the same files always land under the same prefix,
and an object already there with the same size and MD5 is not sent again. Each upload is checked twice: the
client sends a checksum the service verifies, and the object's size and MD5 in the answer must be the file's.

Every regular file under the directory is staged (recursively); a symbolic link is staged as what it points to
only when that is inside the directory, otherwise it is an error. Cloud Storage is reached with
google-cloud-storage and Application Default Credentials (``STORAGE_EMULATOR_HOST`` points it at a test server).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model_registry.errors import RegistryError
from model_registry.vertex import default_credentials, service_errors

STAGING_DIR = "registered-models"
DIGEST_CHARS = 16
UPLOAD_TIMEOUT_S = 300
_CHUNK = 1 << 20


@dataclass(frozen=True)
class LocalFile:
    name: str  # relative to the model directory, with /
    path: Path
    size: int
    sha256: str
    md5: str  # base64, as Cloud Storage's md5Hash


@dataclass(frozen=True)
class Staged:
    uri: str  # gs://BUCKET/PREFIX/registered-models/MODEL/DIGEST
    uploaded: int
    reused: int


def _target_inside(path: Path, root: Path) -> Path:
    target = path.resolve()
    if target != root and root not in target.parents:
        raise RegistryError(
            f"{path} is a symbolic link out of the model directory (to {target}): it is not staged; "
            "copy the file into the directory instead"
        )
    return target


def _digests(path: Path) -> tuple[int, str, str]:
    sha, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            sha.update(chunk)
            md5.update(chunk)
            size += len(chunk)
    return size, sha.hexdigest(), base64.b64encode(md5.digest()).decode()


def model_files(directory: Path) -> list[LocalFile]:
    """Every regular file under ``directory`` (symbolic links only to files inside it), sorted by name."""
    root = directory.resolve()
    found: list[LocalFile] = []
    try:
        for current, subdirs, names in os.walk(root):  # links to directories are not followed
            here = Path(current)
            for sub in subdirs:
                if (here / sub).is_symlink():
                    _target_inside(here / sub, root)  # inside: its files are staged where they are
            for name in names:
                path = here / name
                target = _target_inside(path, root) if path.is_symlink() else path
                if not target.is_file():
                    raise RegistryError(f"{path} is not a regular file: a model directory holds files only")
                found.append(LocalFile(path.relative_to(root).as_posix(), path, *_digests(target)))
    except OSError as exc:
        raise RegistryError(f"cannot read {exc.filename or directory}: {exc.strerror or exc}") from None
    return sorted(found, key=lambda f: f.name)


def content_digest(files: list[LocalFile]) -> str:
    """The first 16 hex digits of the SHA-256 over each file's name and SHA-256."""
    manifest = "".join(f"{f.sha256}  {f.name}\n" for f in files)
    return hashlib.sha256(manifest.encode()).hexdigest()[:DIGEST_CHARS]


def staged_prefix(staging_uri: str, model_id: str, digest: str) -> str:
    return f"{staging_uri.rstrip('/')}/{STAGING_DIR}/{model_id}/{digest}"


@contextlib.contextmanager
def _storage_errors(doing: str) -> Iterator[None]:
    from google.cloud.storage.exceptions import DataCorruption, InvalidResponse

    with service_errors(doing):
        try:
            yield
        except (DataCorruption, InvalidResponse) as exc:
            raise RegistryError(f"{doing}: {type(exc).__name__}: {exc}") from None
        except OSError as exc:
            raise RegistryError(f"{doing}: {exc.strerror or exc}") from None


def _same(blob: Any, local: LocalFile) -> bool:
    return blob is not None and blob.size == local.size and blob.md5_hash == local.md5


def _put(bucket: Any, key: str, local: LocalFile) -> bool:
    """Upload ``local`` to ``key`` unless an identical object is there; True when it was sent."""
    from google.api_core import exceptions as api

    where = f"gs://{bucket.name}/{key}"
    with _storage_errors(f"reading {where}"):
        existing = bucket.get_blob(key)
    if _same(existing, local):
        return False
    blob = bucket.blob(key)
    with _storage_errors(f"uploading {local.path} to {where}"):
        try:  # the generation precondition makes the upload safe to retry
            generation = existing.generation if existing is not None else 0
            blob.upload_from_filename(
                str(local.path), if_generation_match=generation, timeout=UPLOAD_TIMEOUT_S
            )
        except api.PreconditionFailed:  # another run staged it at the same moment
            blob = bucket.get_blob(key)
    if not _same(blob, local):
        got = f"{blob.size} bytes, MD5 {blob.md5_hash}" if blob is not None else "no object"
        raise RegistryError(
            f"uploaded {local.path} to {where}, but Cloud Storage holds {got} instead of {local.size} bytes, "
            f"MD5 {local.md5}"
        )
    return True


def stage(directory: Path, staging_uri: str, model_id: str, project: str) -> Staged:
    """Upload the files of ``directory`` under the content-addressed prefix in ``staging_uri``."""
    files = model_files(directory)
    uri = staged_prefix(staging_uri, model_id, content_digest(files))
    bucket_name, _, prefix = uri.removeprefix("gs://").partition("/")
    credentials = default_credentials()
    with _storage_errors("connecting to Cloud Storage"):
        from google.cloud import storage

        bucket = storage.Client(project=project, credentials=credentials).bucket(bucket_name)
    uploaded = sum(_put(bucket, f"{prefix}/{local.name}", local) for local in files)
    return Staged(uri, uploaded, len(files) - uploaded)


__all__ = ["STAGING_DIR", "LocalFile", "Staged", "content_digest", "model_files", "stage", "staged_prefix"]
