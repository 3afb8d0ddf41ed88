"""The decoding side: one chunk of images -> a gzip member of their pixels and a small record (labels,
counts, skipped images).

Files are written under temporary names and renamed; the record (``<chunk>.json``) lands last, so a chunk
whose record exists is complete, and a killed run's finished chunks can be reused.
"""

from __future__ import annotations

import io
import json
import os
import select
import signal
import threading
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from data_prepare import gcs
from data_prepare.atomic_directory import pid_alive
from data_prepare.errors import PrepareError
from data_prepare.image_folder.decode import BadImage, decode, pillow_configured
from data_prepare.image_folder.plan import ChunkTask
from data_prepare.image_folder.spec import ImageFolderSpec

GZIP_WBITS = 31  # a gzip member (header, deflate, crc32 and size trailer), mtime 0
CLOUD_ENVIRON = ("STORAGE_EMULATOR_HOST", "GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT")
GCS_FETCHES = 8  # objects downloaded at once per worker: Cloud Storage latency, not bandwidth, bounds it


class BadImageError(PrepareError):
    """A bad image with ``on_bad_image=fail``."""


@dataclass(frozen=True)
class Job:
    """What every chunk of one run shares; sent once to each worker process."""

    spec: ImageFolderSpec
    root: str  # a local directory or gs://bucket/prefix
    work: str  # the chunk directory
    plan: str  # the plan digest, recorded with each chunk
    num_classes: int
    timeout_s: float = 30.0
    #: the caller's Cloud Storage settings: the fork server may have started before they were set
    environ: tuple[tuple[str, str | None], ...] = ()
    parent: int = field(default_factory=os.getpid)  # the process that runs the pool

    def location(self, path: str) -> str:
        return f"{self.root.rstrip('/')}/{path}"


_job: Job | None = None
_worker_settings = ExitStack()
_readers: dict[tuple[str, float], gcs.Reader] = {}  # one Cloud Storage client per process and bucket


def start(job: Job) -> None:
    """Initialise a worker process (the pool's initializer)."""
    global _job
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent stops the pool
    _worker_settings.enter_context(pillow_configured())  # for this process's lifetime
    for key, value in job.environ:
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    _job = job
    threading.Thread(target=_exit_with, args=(job.parent,), daemon=True).start()


def _exit_with(parent: int) -> None:
    """End this worker when the pool's owner is gone (e.g. SIGKILLed): pool workers hold both ends of
    their task queue, so they would otherwise wait for the next task forever."""
    try:
        fd = os.pidfd_open(parent)  # readable once the process exits (Linux 5.3+)
        select.select([fd], [], [])
    except (AttributeError, OSError):  # no pidfd here, or the parent is already gone: poll
        while pid_alive(parent):
            time.sleep(1.0)
    os._exit(1)


def cloud_environ() -> tuple[tuple[str, str | None], ...]:
    """This process's Cloud Storage settings, for :attr:`Job.environ`."""
    return tuple((key, os.environ.get(key)) for key in CLOUD_ENVIRON)


def run_chunk(task: ChunkTask) -> dict[str, Any]:
    """Decode one chunk in a worker process started by :func:`start`."""
    assert _job is not None, "start() initialises the worker"
    return decode_chunk(_job, task)


def decode_chunk(job: Job, task: ChunkTask) -> dict[str, Any]:
    """Decode ``task``'s images and write the chunk's files; returns its record."""
    target = Path(job.work) / f"{task.id}.images.gz"
    temporary = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    labels = bytearray()
    skipped: list[dict[str, str]] = []
    try:
        # Each image is compressed and written as it is decoded: a worker holds one image, not a chunk.
        with open(temporary, "wb", buffering=1 << 20) as out:
            deflate = zlib.compressobj(job.spec.compress_level, zlib.DEFLATED, GZIP_WBITS)
            for (path, label), source in zip(task.entries, _sources(job, task), strict=True):
                try:
                    out.write(deflate.compress(decode(source, job.spec)))
                except BadImage as e:
                    if job.spec.on_bad_image == "fail":
                        raise BadImageError(
                            f"bad image {job.location(path)}: {e} (dataset.on_bad_image=skip leaves bad images "
                            "out)"
                        ) from None
                    skipped.append({"path": path, "reason": str(e)})
                    continue
                labels.append(label)
            out.write(deflate.flush())
            out.flush()
            os.fsync(out.fileno())  # before the record names the file; the record itself need not be durable
            size = out.tell()
        os.replace(temporary, target)
        counts = [0] * job.num_classes
        for label in labels:
            counts[label] += 1
        record = {
            "chunk": task.id,
            "plan": job.plan,
            "entries": task.digest,
            "count": len(labels),
            "labels": labels.hex(),
            "class_counts": counts,
            "skipped": skipped,
            "images_bytes": size,
        }
        _write_record(Path(job.work) / f"{task.id}.json", record)
    except OSError as e:
        raise PrepareError(f"cannot write chunk {task.id} in {job.work}: {e.strerror or e}") from None
    return record


def _sources(job: Job, task: ChunkTask) -> Iterator[str | IO[bytes]]:
    """What to open for each entry: a path, or an object's bytes fetched a few at a time."""
    if not job.root.startswith("gs://"):
        root = job.root
        return (os.path.join(root, path) for path, _ in task.entries)
    reader = _readers.setdefault((job.root, job.timeout_s), gcs.Reader(job.root, job.timeout_s))
    pool = ThreadPoolExecutor(GCS_FETCHES)
    fetched = pool.map(reader.read, (path for path, _ in task.entries))
    pool.shutdown(wait=False)  # map() has submitted everything; the threads end with their downloads
    return (io.BytesIO(data) for data in fetched)


def _write_record(path: Path, record: dict[str, Any]) -> None:
    """Write under a temporary name and rename: the record is whole or absent."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(record))
    os.replace(temporary, path)
