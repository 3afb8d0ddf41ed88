"""Assemble the chunks into the four IDX files (streaming) and write the manifest."""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path
from typing import Any

from data_prepare import idx, manifest
from data_prepare.errors import PrepareError
from data_prepare.image_folder.listing import SPLITS, Listing
from data_prepare.image_folder.plan import Plan
from data_prepare.image_folder.spec import ImageFolderSpec
from data_prepare.spec import IDX_FILES

BLOCK = 1 << 20


def assemble(
    staging: Path, work: Path, plan: Plan, records: list[dict[str, Any]], spec: ImageFolderSpec
) -> dict[str, dict[str, Any]]:
    """Write the IDX files into ``staging``; returns the manifest's ``files`` block.

    An images file is a gzip member holding the IDX header, then each chunk's gzip member as the worker wrote
    it (a multi-member gzip file is one stream to ``gzip.open`` and ``gzip.decompress``); a labels file is
    one member, from the records.
    """
    files: dict[str, dict[str, Any]] = {}
    for name, (split, kind) in IDX_FILES.items():
        mine = [(task, r) for task, r in zip(plan.chunks, records, strict=True) if task.split == split]
        count = sum(r["count"] for _, r in mine)
        if kind == "images":
            magic = idx.IMAGES_MAGIC if spec.channels == 1 else idx.RGB_IMAGES_MAGIC
            head = gzip.compress(idx.header(magic, (count, *spec.item_shape)), spec.compress_level, mtime=0)
            parts = [work / f"{task.id}.images.gz" for task, _ in mine]
        else:
            labels = b"".join(bytes.fromhex(r["labels"]) for _, r in mine)
            head = gzip.compress(
                idx.header(idx.LABELS_MAGIC, (count,)) + labels, spec.compress_level, mtime=0
            )
            parts = []
        size, digest = _concatenate(staging / name, head, parts)
        files[name] = {"split": split, "kind": kind, "bytes": size, "sha256": digest}
    return files


def _concatenate(target: Path, head: bytes, parts: list[Path]) -> tuple[int, str]:
    """Write ``head`` and then each part, hashing as it goes; fsync. Returns the size and SHA-256."""
    digest = hashlib.sha256(head)
    size = len(head)
    try:
        with open(target, "wb") as out:
            out.write(head)
            for part in parts:
                with open(part, "rb") as f:
                    while block := f.read(BLOCK):
                        digest.update(block)
                        out.write(block)
                        size += len(block)
            out.flush()
            os.fsync(out.fileno())
    except OSError as e:
        raise PrepareError(f"cannot write {target}: {e.strerror or e}") from None
    return size, digest.hexdigest()


def build_manifest(
    spec: ImageFolderSpec,
    listing: Listing,
    plan: Plan,
    records: list[dict[str, Any]],
    files: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    counts = {split: 0 for split in SPLITS}
    class_counts = {split: [0] * len(listing.class_names) for split in SPLITS}
    skipped = [{"path": r.path, "reason": r.reason} for r in listing.rejected]
    for task, record in zip(plan.chunks, records, strict=True):
        counts[task.split] += record["count"]
        class_counts[task.split] = [
            a + b for a, b in zip(class_counts[task.split], record["class_counts"], strict=True)
        ]
        skipped += record["skipped"]
    settings = spec.settings()
    return {
        "format": manifest.FORMAT,
        "dataset": spec.name,
        "num_classes": len(listing.class_names),
        "class_names": list(listing.class_names),
        "image_shape": [spec.image_size, spec.image_size],
        "channels": spec.channels,
        "counts": counts,
        "class_counts": class_counts,
        "files": files,
        "source": listing.origin,
        "producer": manifest.producer(),
        "images": {
            **{key: settings[key] for key in ("resize", "resample", "on_bad_image", "max_image_pixels")},
            "extensions": settings["extensions"],
            "test_fraction": settings["test_fraction"],
            "chunk_size": settings["chunk_size"],
            "compress_level": settings["compress_level"],
            "ignored_files": listing.ignored,
            "skipped": sorted(skipped, key=lambda s: s["path"]),
            "plan": plan.digest,
        },
    }


def is_complete(output_dir: Path, spec: ImageFolderSpec, plan: Plan) -> bool:
    """True when ``output_dir`` holds this plan's artifact, every file matching its manifest digest."""
    body = manifest.read(output_dir)
    if body is None or body.get("dataset") != spec.name:
        return False
    images = body.get("images")
    if not isinstance(images, dict) or images.get("plan") != plan.digest:
        return False
    return manifest.files_match(output_dir, body.get("files"))
