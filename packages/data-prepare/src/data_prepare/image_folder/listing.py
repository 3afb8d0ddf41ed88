"""What a source holds: every image to decode, with its class, split and a stamp of its state."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from data_prepare.errors import PrepareError
from data_prepare.image_folder.spec import MAX_CLASSES

SPLITS = ("train", "test")


class Entry(NamedTuple):
    """One image to decode."""

    path: str  # relative to Listing.root, '/'-separated
    label: int  # index in Listing.class_names
    stamp: str  # size and mtime (files) or size and generation (Cloud Storage): a changed file changes it


class Rejected(NamedTuple):
    """An image that is bad before it is read: a symlink leaving the source tree, a path escaping it."""

    split: str
    path: str
    reason: str


@dataclass(frozen=True)
class Listing:
    """A source's images, ordered by split, then class, then path."""

    origin: str  # the source as given; recorded in the manifest
    root: str  # a local directory or gs://bucket/prefix that entry paths are relative to
    class_names: tuple[str, ...]
    entries: Mapping[str, list[Entry]]  # per split
    rejected: list[Rejected]
    ignored: int  # files left out for their name: other extensions, hidden files

    @property
    def on_gcs(self) -> bool:
        return self.root.startswith("gs://")

    def location(self, path: str) -> str:
        """Where an entry path is, for messages."""
        return f"{self.root.rstrip('/')}/{path}"

    @classmethod
    def build(
        cls,
        origin: str,
        root: str,
        class_names: Iterable[str],
        items: Mapping[str, Iterable[tuple[str, str, str]]],
        rejected: Iterable[Rejected] = (),
        ignored: int = 0,
    ) -> Listing:
        """Number the classes and order the ``(path, class, stamp)`` items of each split."""
        names = tuple(sorted(class_names))
        if len(names) > MAX_CLASSES:
            raise PrepareError(
                f"source={origin}: {len(names)} classes; the IDX labels file holds one byte per label, so at "
                f"most {MAX_CLASSES} classes"
            )
        label = {name: i for i, name in enumerate(names)}
        entries = {
            split: sorted(
                (Entry(path, label[name], stamp) for path, name, stamp in items.get(split, ())),
                key=lambda e: (e.label, e.path),
            )
            for split in SPLITS
        }
        bad = sorted(rejected, key=lambda r: (r.split, r.path))
        if not any(entries.values()) and not bad:
            raise PrepareError(f"source={origin}: no images found")
        return cls(origin, root, names, entries, bad, ignored)


def symlink_problem(path: str, real_root: str) -> str:
    """Why a symlinked image may not be read ("" when it may): it must point inside the source tree."""
    target = os.path.realpath(path)
    if target != real_root and not target.startswith(real_root.rstrip(os.sep) + os.sep):
        return f"symlink to {target}, outside the source tree {real_root}"
    if not os.path.exists(target):
        return f"broken symlink to {target}"
    return ""
