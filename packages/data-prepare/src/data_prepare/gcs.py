"""Cloud Storage for ``source=gs://…`` (an IDX directory or an image folder): list a prefix, read objects
(honours ``STORAGE_EMULATOR_HOST``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from data_prepare.errors import PrepareError


def split_uri(uri: str) -> tuple[str, str]:
    """``gs://bucket/a/b/`` -> ``("bucket", "a/b")``."""
    bucket, _, prefix = uri.removeprefix("gs://").partition("/")
    return bucket, prefix.strip("/")


def client() -> Any:
    try:
        from google.cloud import storage
    except ImportError:
        raise PrepareError(
            "reading gs:// needs google-cloud-storage (pip install google-cloud-storage), "
            "or use the bucket's /gcs/ path on Vertex AI"
        ) from None
    try:
        if os.environ.get("STORAGE_EMULATOR_HOST"):
            return storage.Client.create_anonymous_client()
        return storage.Client()
    except Exception as e:  # google-auth raises several types; each becomes one message
        raise PrepareError(f"cannot reach Cloud Storage: {_message(e)}") from None


def _message(e: Exception) -> str:
    return getattr(e, "message", None) or (str(e).splitlines() or [type(e).__name__])[0]


def list_objects(uri: str, timeout_s: float) -> Iterator[tuple[str, str]]:
    """``(name relative to the prefix, stamp)`` of every object under ``uri``; folder placeholders end in /."""
    bucket, prefix = split_uri(uri)
    start = f"{prefix}/" if prefix else ""
    try:
        for blob in client().list_blobs(bucket, prefix=start, timeout=timeout_s):
            yield blob.name[len(start) :], f"{blob.size}:{blob.generation}"
    except PrepareError:
        raise
    except Exception as e:
        raise PrepareError(f"cannot list {uri}: {_message(e)}") from None


class Reader:
    """Reads objects below one ``gs://bucket/prefix``; one client per process, made on first use."""

    def __init__(self, root: str, timeout_s: float) -> None:
        self.root = root.rstrip("/")
        self.timeout_s = timeout_s
        self._bucket: Any = None

    def read(self, path: str) -> bytes:
        bucket, prefix = split_uri(self.root)
        if self._bucket is None:
            self._bucket = client().bucket(bucket)
        name = f"{prefix}/{path}" if prefix else path
        try:
            return self._bucket.blob(name).download_as_bytes(timeout=self.timeout_s)
        except Exception as e:
            raise PrepareError(f"cannot read gs://{bucket}/{name}: {_message(e)}") from None


def read_object(uri: str, timeout_s: float) -> bytes:
    """One object's bytes, e.g. a CSV list."""
    root, _, name = uri.rpartition("/")
    return Reader(root, timeout_s).read(name)
