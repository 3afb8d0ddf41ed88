"""Read a dataset directory of IDX files (the MNIST format) into numpy arrays.

The directory holds ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and
``t10k-labels-idx1-ubyte``, each gzip-compressed (``.gz``) or plain, and optionally the ``manifest.json``
written by data-prepare (``num_classes``, ``class_names``, per-file sha256 digests).
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from trainer.errors import DatasetError

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
SPLIT_FILES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class IdxDataset:
    """Train and test images (uint8, N x H x W) and labels (int64, N) with class metadata."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    class_names: list[str]
    manifest: dict[str, Any] | None = field(default=None)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def _resolve(data_dir: Path, stem: str) -> Path | None:
    for name in (f"{stem}.gz", stem):
        if (data_dir / name).is_file():
            return data_dir / name
    return None


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from None


def read_idx(path: Path, expected_magic: int) -> np.ndarray:
    """Decode one IDX file (unsigned-byte data) into an array shaped by its header."""
    raw = _read_bytes(path)
    if len(raw) < 8:
        raise DatasetError(f"{path} is not an IDX file: only {len(raw)} bytes")
    magic = int.from_bytes(raw[:4], "big")
    if magic != expected_magic:
        raise DatasetError(f"{path} has IDX magic number {magic}, expected {expected_magic}")
    ndim = raw[3]
    header = 4 + 4 * ndim
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(dims, dtype=np.int64))
    if len(raw) != expected:
        raise DatasetError(f"{path} is truncated or padded: {len(raw)} bytes, header {dims} needs {expected}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _read_manifest(data_dir: Path) -> dict[str, Any] | None:
    path = data_dir / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(manifest, dict):
        raise DatasetError(f"{path} must hold a JSON object")
    return manifest


def _class_names(manifest: dict[str, Any] | None, labels: list[np.ndarray], data_dir: Path) -> list[str]:
    if manifest is not None and manifest.get("class_names") is not None:
        names = manifest["class_names"]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise DatasetError(f"{data_dir / MANIFEST}: class_names must be a list of strings")
    else:
        num = int(manifest.get("num_classes") or 0) if manifest else 0
        num = num or int(max(int(y.max()) for y in labels if y.size) + 1)
        names = [str(i) for i in range(num)]
    top = max(int(y.max()) for y in labels if y.size)
    if top >= len(names):
        raise DatasetError(f"{data_dir}: label {top} found but the manifest declares {len(names)} classes")
    return names


def load_idx_dataset(data_dir: str | Path) -> IdxDataset:
    """Load and validate a dataset directory; every problem raises :class:`DatasetError` naming it."""
    data_dir = Path(data_dir)
    if not data_dir.exists():
        raise DatasetError(f"dataset directory {data_dir} does not exist")
    if not data_dir.is_dir():
        raise DatasetError(f"dataset path {data_dir} is not a directory")
    stems = [stem for pair in SPLIT_FILES.values() for stem in pair]
    missing = [f"{stem}.gz" for stem in stems if _resolve(data_dir, stem) is None]
    if missing:
        raise DatasetError(f"dataset directory {data_dir} is missing {', '.join(missing)}")
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for split, (images_stem, labels_stem) in SPLIT_FILES.items():
        images_path = _resolve(data_dir, images_stem)
        labels_path = _resolve(data_dir, labels_stem)
        assert images_path is not None and labels_path is not None
        images = read_idx(images_path, IMAGES_MAGIC)
        labels = read_idx(labels_path, LABELS_MAGIC)
        if images.ndim != 3:
            raise DatasetError(f"{images_path} holds {images.ndim}-d data, expected N x H x W images")
        if labels.ndim != 1:
            raise DatasetError(f"{labels_path} holds {labels.ndim}-d data, expected a vector of labels")
        if len(images) != len(labels) or len(images) == 0:
            raise DatasetError(
                f"{split} split has {len(images)} images and {len(labels)} labels in {data_dir}; "
                "they must match and be non-empty"
            )
        arrays[split] = (images, labels.astype(np.int64))
    if arrays["train"][0].shape[1:] != arrays["test"][0].shape[1:]:
        raise DatasetError(
            f"train images are {arrays['train'][0].shape[1:]} but test images are {arrays['test'][0].shape[1:]}"
        )
    manifest = _read_manifest(data_dir)
    class_names = _class_names(manifest, [arrays["train"][1], arrays["test"][1]], data_dir)
    return IdxDataset(
        train_images=arrays["train"][0],
        train_labels=arrays["train"][1],
        test_images=arrays["test"][0],
        test_labels=arrays["test"][1],
        class_names=class_names,
        manifest=manifest,
    )
