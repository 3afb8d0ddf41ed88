"""A run's plan: its chunks, and one digest of everything that decides the artifact's bytes.

The digest covers the settings (``workers`` aside), the Pillow version, the source, the class list, the
bad-before-reading images, and every entry's path, label and stamp (size and mtime or generation), so any
change to the source or settings makes a new plan: chunks and outputs of an old one are never reused.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import PIL

from data_prepare.image_folder.listing import SPLITS, Listing
from data_prepare.image_folder.spec import ImageFolderSpec

#: part of every digest: bump it when decoding or the chunk format changes what a plan produces
PLAN_FORMAT = "image_folder-plan/1"


@dataclass(frozen=True)
class ChunkTask:
    """Up to ``chunk_size`` consecutive images of one split, decoded by one worker into one chunk."""

    id: str  # e.g. "train-00003"; chunks are assembled in plan order
    split: str
    entries: tuple[tuple[str, int], ...]  # (path relative to the source root, label)
    digest: str  # of the chunk's paths, labels and stamps


@dataclass(frozen=True)
class Plan:
    digest: str
    chunks: tuple[ChunkTask, ...]

    @property
    def short(self) -> str:
        return self.digest[:16]

    def images(self, split: str | None = None) -> int:
        return sum(len(c.entries) for c in self.chunks if split in (None, c.split))


def make_plan(listing: Listing, spec: ImageFolderSpec) -> Plan:
    head = {
        "format": PLAN_FORMAT,
        "pillow": PIL.__version__,
        "settings": spec.settings(),
        "source": listing.origin,
        "class_names": list(listing.class_names),
        "rejected": [list(r) for r in listing.rejected],
    }
    digest = hashlib.sha256(json.dumps(head, sort_keys=True).encode())
    chunks = []
    for split in SPLITS:
        entries = listing.entries[split]
        for index, start in enumerate(range(0, len(entries), spec.chunk_size)):
            part = entries[start : start + spec.chunk_size]
            chunk_digest = hashlib.sha256(json.dumps(part).encode()).hexdigest()
            task = ChunkTask(
                f"{split}-{index:05d}", split, tuple((e.path, e.label) for e in part), chunk_digest
            )
            chunks.append(task)
            digest.update(f"{task.id} {chunk_digest}\n".encode())
    return Plan(digest.hexdigest(), tuple(chunks))
