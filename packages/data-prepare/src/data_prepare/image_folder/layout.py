"""Turn ``source=`` into a :class:`Listing`: an ImageFolder tree (local or Cloud Storage) or a CSV list.

An ImageFolder holds ``train/<class>/…`` and ``test/<class>/…``; images may sit in sub-folders of a class
folder. Hidden files and folders and files with other extensions are left out (counted as ignored); symlinked
folders are not followed, and a symlinked image must point inside the source tree.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from data_prepare import gcs
from data_prepare.errors import PrepareError
from data_prepare.image_folder import csv_manifest
from data_prepare.image_folder.listing import SPLITS, Listing, Rejected, symlink_problem
from data_prepare.image_folder.spec import ImageFolderSpec

#: where Vertex AI mounts every bucket (GCS FUSE); ``gs://b/p`` is read from ``/gcs/b/p`` when it exists
FUSE_ROOT = Path("/gcs")
FORMS = (
    "a folder holding train/<class>/ and test/<class>/ images, a .csv list (path,label[,split]), "
    "or gs://bucket/prefix of either"
)


@dataclass
class Found:
    """What a scan of an ImageFolder found, before its structure is checked."""

    folders: dict[str, set[str]] = field(default_factory=lambda: {s: set() for s in SPLITS})
    items: dict[str, list[tuple[str, str, str]]] = field(default_factory=lambda: {s: [] for s in SPLITS})
    rejected: list[Rejected] = field(default_factory=list)
    ignored: int = 0


def resolve(source: str, spec: ImageFolderSpec, *, timeout_s: float = 30.0) -> Listing:
    """List the images of ``source``: a local path, ``gs://…`` (through ``/gcs/`` when mounted), or a CSV."""
    source = str(source)
    if source == "auto":
        raise PrepareError(f"dataset=image_folder needs a source=: {FORMS}")
    local = source
    if source.startswith("gs://"):
        fuse = FUSE_ROOT / source.removeprefix("gs://")
        if not fuse.exists():
            if source.lower().endswith(".csv"):
                return csv_manifest.from_gcs(source, spec, timeout_s)
            return _check_folders(source, source.rstrip("/"), _scan_gcs(source, spec, timeout_s), spec)
        local = str(fuse)
    elif "://" in source:
        raise PrepareError(f"source={source!r}: dataset=image_folder reads {FORMS}")
    path = Path(local).expanduser()
    if path.is_file() and path.suffix.lower() == ".csv":
        return csv_manifest.from_file(source, path, spec)
    if not path.is_dir():
        raise PrepareError(f"source={source}: no such directory or .csv file")
    return _check_folders(source, str(path.absolute()), _scan_local(path.absolute(), spec), spec)


def _scan_local(root: Path, spec: ImageFolderSpec) -> Found:
    found = Found()
    real_root = os.path.realpath(root)
    for split in SPLITS:
        split_dir = root / split
        if not split_dir.is_dir():
            raise PrepareError(
                f"{split_dir}: no such folder; an image folder holds train/<class>/ and test/<class>/ images"
            )
        with os.scandir(split_dir) as listing:
            for entry in listing:
                if entry.is_dir(follow_symlinks=False) and not entry.name.startswith("."):
                    found.folders[split].add(entry.name)
                    _walk(entry.path, f"{split}/{entry.name}", split, entry.name, real_root, spec, found)
                elif not entry.is_dir():
                    found.ignored += 1  # a file beside the class folders
    return found


def _walk(
    top: str, rel_top: str, split: str, name: str, real_root: str, spec: ImageFolderSpec, found: Found
) -> None:
    """Every image below one class folder; a stat only per kept file, a realpath only per symlink."""
    extensions = spec.extensions
    stack = [(top, rel_top)]
    while stack:
        directory, rel = stack.pop()
        with os.scandir(directory) as listing:
            for entry in listing:
                hidden = entry.name.startswith(".")
                if entry.is_dir(follow_symlinks=False):
                    if not hidden:
                        stack.append((entry.path, f"{rel}/{entry.name}"))
                    continue
                if hidden or os.path.splitext(entry.name)[1].lower() not in extensions:
                    found.ignored += 1
                    continue
                path = f"{rel}/{entry.name}"
                problem = entry.is_symlink() and symlink_problem(entry.path, real_root)
                if problem:
                    found.rejected.append(Rejected(split, path, problem))
                    continue
                try:
                    stat = entry.stat()
                except OSError as e:
                    found.rejected.append(Rejected(split, path, f"cannot read it: {e.strerror}"))
                    continue
                found.items[split].append((path, name, f"{stat.st_size}:{stat.st_mtime_ns}"))


def _scan_gcs(source: str, spec: ImageFolderSpec, timeout_s: float) -> Found:
    found = Found()
    for name, stamp in gcs.list_objects(source, timeout_s):
        parts = name.split("/")
        if parts[0] not in SPLITS or any(p.startswith(".") for p in parts[1:-1]):
            continue  # beside train/ and test/, or in a hidden folder: not looked at, as on a disk
        if len(parts) < 3 or parts[-1].startswith("."):
            found.ignored += not name.endswith("/")  # a file beside the class folders, or a hidden one
            continue
        split, label = parts[0], parts[1]
        found.folders[split].add(label)  # a folder exists on Cloud Storage once anything is under it
        if name.endswith("/"):
            continue  # a folder placeholder, as the console's "create folder" makes
        if os.path.splitext(name)[1].lower() not in spec.extensions:
            found.ignored += 1
        else:
            found.items[split].append((name, label, stamp))
    return found


def _check_folders(origin: str, root: str, found: Found, spec: ImageFolderSpec) -> Listing:
    """The structure rules: no empty class folder, no class only in test/, and some images."""
    kinds = ", ".join(spec.extensions)
    seen = {(split, item[1]) for split in SPLITS for item in found.items[split]}
    seen |= {(r.split, r.path.split("/")[1]) for r in found.rejected}
    for split in SPLITS:
        if not found.folders[split]:
            raise PrepareError(
                f"{root}/{split}: no class folders; an image folder holds train/<class>/ and test/<class>/ images"
            )
        for name in sorted(found.folders[split]):
            if (split, name) not in seen:
                raise PrepareError(f"{root}/{split}/{name}: empty class folder (no {kinds} images)")
    only_test = sorted(found.folders["test"] - found.folders["train"])
    if only_test:
        name = only_test[0]
        raise PrepareError(f"{root}/test/{name}: class {name!r} is only in test/ (no {root}/train/{name})")
    return Listing.build(origin, root, found.folders["train"], found.items, found.rejected, found.ignored)
