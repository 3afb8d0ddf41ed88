"""Cloud Storage objects (JSON API v1), as a mixin: the uploads google-cloud-storage sends and object metadata.

:class:`StorageObjectRoutes` adds the routes to any :class:`~submit_fakes.server.FakeServer`; with an
``authorized(rec)`` method (FakeGoogle's) each request must carry a token the server issued. Point the client
at it with ``STORAGE_EMULATOR_HOST=<server url>`` (the client then still sends explicit credentials it is
given). Bucket metadata (``GET /storage/v1/b/B``) stays FakeGoogle's ``buckets``; any bucket holds objects here.

Emulated (Cloud Storage JSON API reference: objects.insert, objects.get; docs/vertex-behaviour.md row M13):

- ``POST /upload/storage/v1/b/B/o?uploadType=multipart``: ``multipart/related``, a JSON part (``name``,
  ``contentType``, ``crc32c`` / ``md5Hash`` as base64) and the media part; what google-cloud-storage sends for
  a file up to 8 MiB (``Blob.upload_from_filename``). A checksum that does not match the bytes is 400, as the
  service answers. ``uploadType=media`` (``name`` in the query, the bytes as the body) too. ``resumable`` (files
  over 8 MiB) is not emulated: it needs a ``Location`` header and ``PUT``, which FakeServer does not send: 400.
- ``ifGenerationMatch``: ``0`` = only when the object does not exist, N = only when its generation is N;
  otherwise 412 ``conditionNotMet``.
- ``GET /storage/v1/b/B/o/NAME`` (NAME URL-encoded): the object resource (``size`` as a string, ``md5Hash``,
  ``crc32c``, ``generation``) or 404.

For tests: ``.objects`` ("BUCKET/NAME" -> bytes, may be set directly), ``.object_uploads()`` (the upload
requests as recorded), ``object_upload_reply`` / ``object_get_reply`` (a :class:`Reply` sent instead of the
normal answer, e.g. ``FakeServer.error(403, "PERMISSION_DENIED", "...")``).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
from typing import Any
from urllib.parse import unquote

from submit_fakes.server import Recorded, Reply, google_error

_STAMP = "2026-12-06T10:00:00.000Z"


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def md5_hash(data: bytes) -> str:
    """Cloud Storage's ``md5Hash`` of ``data`` (base64)."""
    return _b64(hashlib.md5(data).digest())


def crc32c_hash(data: bytes) -> str:
    """Cloud Storage's ``crc32c`` of ``data`` (base64 of the big-endian 32-bit value)."""
    import google_crc32c

    return _b64(google_crc32c.Checksum(data).digest())


def _multipart(rec: Recorded) -> tuple[dict[str, Any], bytes] | None:
    """The JSON metadata and the media of a ``multipart/related`` body, or None when it is not one."""
    boundary = re.search(r'boundary="?([^";]+)"?', rec.headers.get("content-type", ""))
    if boundary is None or not isinstance(rec.body, bytes):
        return None
    parts = rec.body.split(b"--" + boundary[1].encode())
    if len(parts) != 4 or not parts[3].startswith(b"--"):
        return None
    sections = []
    for part in parts[1:3]:
        head, found, content = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not found or not content.endswith(b"\r\n"):
            return None
        sections.append((head, content[:-2]))
    try:
        metadata = json.loads(sections[0][1])
    except ValueError:
        return None
    return (metadata, sections[1][1]) if isinstance(metadata, dict) else None


class StorageObjectRoutes:
    """Routes for a FakeServer subclass; call :meth:`install_storage_objects` from its ``__init__``."""

    def install_storage_objects(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.object_generations: dict[str, int] = {}
        self.object_upload_reply: Reply | None = None
        self.object_get_reply: Reply | None = None
        self._generations = itertools.count(1765015200000001)
        self.route("POST", r"/upload/storage/v1/b/([^/]+)/o", self._insert_object)  # type: ignore[attr-defined]
        self.route("GET", r"/storage/v1/b/([^/]+)/o/([^/]+)", self._get_object)  # type: ignore[attr-defined]

    def object_uploads(self) -> list[Recorded]:
        return self.sent("POST", r"/upload/storage/v1/b/[^/]+/o")  # type: ignore[attr-defined]

    def object_resource(self, bucket: str, name: str) -> dict[str, Any]:
        key = f"{bucket}/{name}"
        data, generation = self.objects[key], self.object_generations.setdefault(key, next(self._generations))
        return {
            "kind": "storage#object",
            "id": f"{key}/{generation}",
            "name": name,
            "bucket": bucket,
            "generation": str(generation),
            "metageneration": "1",
            "contentType": "application/octet-stream",
            "size": str(len(data)),
            "md5Hash": md5_hash(data),
            "crc32c": crc32c_hash(data),
            "storageClass": "STANDARD",
            "timeCreated": _STAMP,
            "updated": _STAMP,
        }

    def _refused(self, rec: Recorded) -> Reply | None:
        authorized = getattr(self, "authorized", None)
        if authorized is not None and not authorized(rec):
            return google_error(
                401, "UNAUTHENTICATED", "Anonymous caller does not have storage.objects access."
            )
        return None

    def _precondition(self, rec: Recorded, key: str) -> Reply | None:
        wanted = (rec.query.get("ifGenerationMatch") or [None])[0]
        if wanted is None:
            return None
        current = self.object_generations.get(key, 0) if key in self.objects else 0
        if int(wanted) != current:
            return Reply(
                412,
                {
                    "error": {
                        "code": 412,
                        "message": "At least one of the pre-conditions you specified did not hold.",
                        "errors": [{"reason": "conditionNotMet", "location": "If-Match"}],
                    }
                },
            )
        return None

    def _insert_object(self, match: re.Match[str], rec: Recorded) -> Reply:
        refused = self._refused(rec) or self.object_upload_reply
        if refused is not None:
            return refused
        kind = (rec.query.get("uploadType") or [""])[0]
        if kind == "multipart":
            parsed = _multipart(rec)
            if parsed is None:
                return google_error(400, "INVALID_ARGUMENT", "Invalid multipart request.")
            metadata, data = parsed
        elif kind == "media":
            metadata, data = {}, rec.body if isinstance(rec.body, bytes) else b""
        else:
            return google_error(400, "INVALID_ARGUMENT", f"uploadType {kind!r} is not emulated (fake).")
        name = metadata.get("name") or (rec.query.get("name") or [""])[0]
        if not name:
            return google_error(400, "INVALID_ARGUMENT", "Required parameter: name")
        for field, digest in (("crc32c", crc32c_hash), ("md5Hash", md5_hash)):
            if field in metadata and metadata[field] != digest(data):
                return google_error(
                    400,
                    "INVALID_ARGUMENT",
                    f'Provided {field} "{metadata[field]}" doesn\'t match calculated {field} "{digest(data)}".',
                )
        key = f"{unquote(match[1])}/{name}"
        refused = self._precondition(rec, key)
        if refused is not None:
            return refused
        self.objects[key] = bytes(data)
        self.object_generations[key] = next(self._generations)
        return Reply(200, self.object_resource(unquote(match[1]), name))

    def _get_object(self, match: re.Match[str], rec: Recorded) -> Reply:
        refused = self._refused(rec) or self.object_get_reply
        if refused is not None:
            return refused
        bucket, name = unquote(match[1]), unquote(match[2])
        if f"{bucket}/{name}" not in self.objects:
            return google_error(404, "NOT_FOUND", f"No such object: {bucket}/{name}")
        if (rec.query.get("alt") or ["json"])[0] != "json":
            return google_error(400, "INVALID_ARGUMENT", "alt=media downloads are not emulated (fake).")
        return Reply(200, self.object_resource(bucket, name))


__all__ = ["StorageObjectRoutes", "crc32c_hash", "md5_hash"]
