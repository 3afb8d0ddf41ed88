"""Fetch, verify and publish one dataset: the component's whole job, usable as a library."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from data_prepare import atomic_directory, checksums, idx, manifest, sources
from data_prepare.errors import PrepareError
from data_prepare.spec import IDX_FILES, DatasetSpec


@dataclass(frozen=True)
class PrepareResult:
    output_dir: Path
    manifest: dict[str, Any]
    reused: bool  # True when the output already held this verified dataset


def prepare(
    spec: DatasetSpec,
    output_dir: Path,
    *,
    source: str = "auto",
    mirrors: Sequence[str] | None = None,
    timeout_s: float = 30.0,
    progress: str = "auto",
    log: Callable[[str], None] = lambda message: None,
) -> PrepareResult:
    """Publish ``spec``'s four IDX files and a manifest to ``output_dir``, atomically.

    Re-running into a complete, verified output is a no-op; concurrent runs into one directory take turns.
    """
    output_dir = Path(output_dir).expanduser().absolute()
    if output_dir.exists() and not output_dir.is_dir():
        raise PrepareError(
            f"cannot write the output directory {output_dir}: it exists and is not a directory"
        )
    with atomic_directory.exclusive(output_dir, log) as locked:
        atomic_directory.remove_leftovers(output_dir, locked=locked)
        if manifest.is_complete(output_dir, spec):
            log(f"{output_dir} already holds verified {spec.name}; nothing to do")
            return PrepareResult(output_dir, manifest.read(output_dir) or {}, reused=True)
        manifest.refuse_foreign(output_dir)
        src = sources.resolve(spec, source, mirrors=mirrors, timeout_s=timeout_s, progress=progress)
        return _publish(spec, src, output_dir, log)


def _publish(
    spec: DatasetSpec, src: sources.Source, output_dir: Path, log: Callable[[str], None]
) -> PrepareResult:
    verifier = checksums.Verifier(spec)
    with atomic_directory.staging_dir(output_dir) as staging:
        records = {}
        for name, (split, kind) in IDX_FILES.items():
            data = src.read(name)
            digests = checksums.FileDigests.of(data)
            vouched = verifier.verify(name, digests, src.origin)
            check_contents(spec, name, data, split, kind)
            atomic_directory.write_file(staging / name, data)
            records[name] = {
                "split": split,
                "kind": kind,
                "bytes": len(data),
                "sha256": digests.sha256,
                "verified_by": f"{vouched.algorithm}:{vouched.hexdigest} ({vouched.reference})",
            }
            log(f"verified {name} ({len(data):,} bytes)")
        body = manifest.build(spec, records, src.origin)
        atomic_directory.write_file(staging / manifest.MANIFEST, manifest.dumps(body))
        published = atomic_directory.commit(
            staging,
            output_dir,
            last=manifest.MANIFEST,
            pending=manifest.PENDING,
            done=lambda: manifest.is_complete(output_dir, spec),
        )
    if not published:
        log(f"another run published {spec.name} to {output_dir} first; it is complete")
        return PrepareResult(output_dir, manifest.read(output_dir) or {}, reused=True)
    log(f"published {spec.name} to {output_dir}")
    return PrepareResult(output_dir, body, reused=False)


def check_contents(spec: DatasetSpec, name: str, data: bytes, split: str, kind: str) -> None:
    """IDX header, dimensions, item count and label range of one file."""
    raw = idx.gunzip(name, data)
    count = spec.counts[split]
    if kind == "images":
        idx.parse_idx(name, raw, magic=idx.IMAGES_MAGIC, dims=(count, *spec.image_shape))
    else:
        labels = idx.parse_idx(name, raw, magic=idx.LABELS_MAGIC, dims=(count,))
        idx.check_labels(name, labels, spec.num_classes)


__all__ = ["PrepareError", "PrepareResult", "prepare"]
