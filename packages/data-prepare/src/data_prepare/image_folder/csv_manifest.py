"""A CSV list of images: header ``path,label[,split]``, paths relative to the CSV's folder.

Without a split column each image's split follows from a stable hash of its normalised path (independent of
row order): the first 8 bytes of its SHA-256 as a fraction of 2**64, below ``test_fraction`` -> test. Every
listed file is read whatever its extension. A path leaving the CSV's folder (``..``, an absolute path
elsewhere, a symlink pointing out) is a bad image.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import posixpath
from collections.abc import Callable
from pathlib import Path

from data_prepare import gcs
from data_prepare.errors import PrepareError
from data_prepare.image_folder.listing import SPLITS, Listing, Rejected, symlink_problem
from data_prepare.image_folder.spec import ImageFolderSpec

COLUMNS = ("path", "label", "split")

#: (path relative to the CSV's folder) -> (stamp, "") or ("", why it cannot be read)
Stat = Callable[[str], tuple[str, str]]


def from_file(origin: str, csv_path: Path, spec: ImageFolderSpec) -> Listing:
    try:
        text = csv_path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise PrepareError(f"cannot read {csv_path}: {getattr(e, 'strerror', None) or e}") from None
    root = str(csv_path.absolute().parent)
    real_root = os.path.realpath(root)

    def stat(rel: str) -> tuple[str, str]:
        path = os.path.join(root, rel)
        try:
            if os.path.islink(path) and (problem := symlink_problem(path, real_root)):
                return "", problem
            info = os.stat(path)
        except OSError as e:
            return "", f"cannot read it: {e.strerror}"
        return f"{info.st_size}:{info.st_mtime_ns}", ""

    return _listing(origin, root, csv_path.name, text, spec, stat)


def from_gcs(uri: str, spec: ImageFolderSpec, timeout_s: float) -> Listing:
    data = gcs.read_object(uri, timeout_s)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise PrepareError(f"{uri}: not UTF-8 text ({e})") from None
    root = uri.rpartition("/")[0]
    stamps = dict(gcs.list_objects(root, timeout_s))

    def stat(rel: str) -> tuple[str, str]:
        return (stamps[rel], "") if rel in stamps else ("", "no such object")

    return _listing(uri, root, uri.rpartition("/")[2], text, spec, stat)


def _listing(origin: str, root: str, name: str, text: str, spec: ImageFolderSpec, stat: Stat) -> Listing:
    items: dict[str, list[tuple[str, str, str]]] = {split: [] for split in SPLITS}
    rejected: list[Rejected] = []
    seen: dict[str, int] = {}
    for line, path, label, split in _rows(name, text):
        rel = _relative(path, root)
        if rel is None:
            rejected.append(Rejected(split or "train", path, f"outside the source tree {root}"))
            continue
        if rel in seen:
            raise PrepareError(f"{name} line {line}: {path} is listed twice (first on line {seen[rel]})")
        seen[rel] = line
        split = split or _hashed_split(rel, spec.test_fraction)
        stamp, problem = stat(rel)
        if problem:
            rejected.append(Rejected(split, rel, problem))
        else:
            items[split].append((rel, label, stamp))
    classes = {label for _, label, _ in items["train"]}
    only_test = sorted({label for _, label, _ in items["test"]} - classes)
    if only_test:
        raise PrepareError(f"{name}: class {only_test[0]!r} has test images but no train images")
    for split in SPLITS:
        if not items[split] and not any(r.split == split for r in rejected) and any(items.values()):
            hint = "" if split == "train" else " (add a split column, or raise dataset.test_fraction)"
            raise PrepareError(f"{name}: no {split} images{hint}")
    return Listing.build(origin, root, classes, items, rejected)


def _rows(name: str, text: str):  # -> Iterator[tuple[int, str, str, str]]: line, path, label, split or ""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    columns = tuple(c.strip().lower() for c in header or ())
    if columns not in (COLUMNS[:2], COLUMNS):
        raise PrepareError(f"{name} line 1: the header must be path,label or path,label,split, not {header}")
    try:
        for row in reader:
            if not row or not "".join(row).strip():
                continue
            if len(row) != len(columns):
                raise PrepareError(
                    f"{name} line {reader.line_num}: {len(row)} fields, expected {len(columns)} "
                    f"({','.join(columns)})"
                )
            path, label = row[0].strip(), row[1].strip()
            split = row[2].strip().lower() if len(row) == 3 else ""
            if not path or not label:
                raise PrepareError(f"{name} line {reader.line_num}: empty {'path' if not path else 'label'}")
            if len(row) == 3 and split not in SPLITS:
                raise PrepareError(f"{name} line {reader.line_num}: split {row[2]!r} is not train or test")
            yield reader.line_num, path, label, split
    except csv.Error as e:
        raise PrepareError(f"{name} line {reader.line_num}: {e}") from None


def _relative(path: str, root: str) -> str | None:
    """``path`` relative to ``root`` ('/'-separated, normalised), or None when it leaves the tree."""
    if path.startswith("gs://") or (not root.startswith("gs://") and os.path.isabs(path)):
        if not path.startswith(root.rstrip("/") + "/"):
            return None
        path = path[len(root.rstrip("/")) + 1 :]
    rel = posixpath.normpath(path.replace(os.sep, "/"))
    if rel.startswith(("../", "/")) or rel in ("..", "."):
        return None
    return rel


def _hashed_split(rel: str, test_fraction: float) -> str:
    fraction = int.from_bytes(hashlib.sha256(rel.encode()).digest()[:8], "big") / 2**64
    return "test" if fraction < test_fraction else "train"
