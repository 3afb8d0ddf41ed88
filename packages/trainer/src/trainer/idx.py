"""Read a dataset directory of IDX files (the MNIST format) into numpy arrays.

The directory holds ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and
``t10k-labels-idx1-ubyte``, each gzip-compressed (``.gz``) or plain, and optionally the ``manifest.json``
written by data-prepare (``num_classes``, ``class_names``, ``channels``, per-file sha256 digests). When the
manifest lists a file's sha256 the file must match it; labels must lie within the declared classes.

Images are square: ``N x H x W`` (grey, the MNIST family) or ``N x H x W x C`` with ``C`` 1 or 3 (what
``data-prepare dataset=image_folder`` publishes for RGB); :attr:`IdxDataset.train_images` keeps that layout.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from trainer.errors import DatasetError

IMAGES_MAGIC = 2051
#: unsigned-byte images with a trailing channel axis (N x H x W x C)
COLOUR_IMAGES_MAGIC = 2052
LABELS_MAGIC = 2049
SPLIT_FILES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class IdxDataset:
    """Train and test images (uint8, N x H x W or N x H x W x C) and labels (int64, N) with class metadata."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    class_names: list[str]
    manifest: dict[str, Any] | None = field(default=None)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def image_size(self) -> int:
        """Height (= width) of every image."""
        return int(self.train_images.shape[1])

    @property
    def channels(self) -> int:
        """Colour channels: 1 for grey (N x H x W files), else the last dimension."""
        return 1 if self.train_images.ndim == 3 else int(self.train_images.shape[3])


def _resolve(data_dir: Path, stem: str) -> Path | None:
    for name in (f"{stem}.gz", stem):
        if (data_dir / name).is_file():
            return data_dir / name
    return None


def _read_bytes(path: Path, manifest: dict[str, Any] | None) -> bytes:
    """The file's decoded bytes, after checking its sha256 against the manifest when it lists one."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror or exc}") from None
    expected = _manifest_digest(manifest, path.name)
    if expected is not None:
        found = hashlib.sha256(data).hexdigest()
        if found != expected.lower():
            raise DatasetError(
                f"{path} does not match {MANIFEST}: sha256 {found}, the manifest says {expected}; "
                "the dataset artifact is corrupt or was changed after publishing (run data-prepare again)"
            )
    if path.suffix != ".gz":
        return data
    try:
        return gzip.decompress(data)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from None


def _manifest_digest(manifest: dict[str, Any] | None, name: str) -> str | None:
    files = manifest.get("files") if manifest else None
    entry = files.get(name) if isinstance(files, dict) else None
    digest = entry.get("sha256") if isinstance(entry, dict) else None
    return digest if isinstance(digest, str) else None


def _decode_idx(path: Path, raw: bytes, expected_magic: int | tuple[int, ...]) -> np.ndarray:
    """Decode one IDX file's bytes (unsigned-byte data) into an array shaped by its header."""
    if len(raw) < 8:
        raise DatasetError(f"{path} is not an IDX file: only {len(raw)} bytes")
    magic = int.from_bytes(raw[:4], "big")
    allowed = expected_magic if isinstance(expected_magic, tuple) else (expected_magic,)
    if magic not in allowed:
        shown = " or ".join(map(str, allowed))
        raise DatasetError(f"{path} has IDX magic number {magic}, expected {shown}")
    ndim = raw[3]
    header = 4 + 4 * ndim
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(dims, dtype=np.int64))
    if len(raw) != expected:
        raise DatasetError(f"{path} is truncated or padded: {len(raw)} bytes, header {dims} needs {expected}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def read_idx(
    path: Path, expected_magic: int | tuple[int, ...], manifest: dict[str, Any] | None = None
) -> np.ndarray:
    """Read and decode one IDX file, gzip-compressed (``.gz``) or plain."""
    return _decode_idx(path, _read_bytes(path, manifest), expected_magic)


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


def _declared_classes(manifest: dict[str, Any] | None, data_dir: Path) -> list[str] | None:
    """Class names from the manifest's ``class_names`` and/or ``num_classes``; ``None`` when it declares none."""
    if manifest is None:
        return None
    where = data_dir / MANIFEST
    names, count = manifest.get("class_names"), manifest.get("num_classes")
    if names is not None and (not isinstance(names, list) or not all(isinstance(n, str) for n in names)):
        raise DatasetError(f"{where}: class_names must be a list of strings")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
        raise DatasetError(f"{where}: num_classes must be a positive integer, got {count!r}")
    if names is not None and count is not None and len(names) != count:
        raise DatasetError(f"{where}: num_classes is {count} but class_names lists {len(names)} names")
    if names is not None:
        return list(names)
    return [str(i) for i in range(count)] if count is not None else None


def _class_names(
    manifest: dict[str, Any] | None, labels: list[np.ndarray], data_dir: Path, num_classes: int | None
) -> list[str]:
    top = max(int(y.max()) for y in labels)
    declared = _declared_classes(manifest, data_dir)
    if declared is not None:
        if num_classes is not None and num_classes != len(declared):
            raise DatasetError(
                f"data.num_classes={num_classes} but {data_dir / MANIFEST} declares {len(declared)} classes"
            )
        if top >= len(declared):
            raise DatasetError(
                f"{data_dir}: label {top} found but the manifest declares {len(declared)} classes"
            )
        return declared
    if num_classes is not None:
        if top >= num_classes:
            raise DatasetError(f"{data_dir}: label {top} found but data.num_classes={num_classes}")
        return [str(i) for i in range(num_classes)]
    present = np.flatnonzero(sum(np.bincount(y, minlength=top + 1) for y in labels))
    if len(present) != top + 1:
        missing = sorted(set(range(top + 1)) - set(present.tolist()))
        raise DatasetError(
            f"{data_dir} has no manifest declaring its classes, and its labels run up to {top} with no "
            f"example of {_ranges(missing)}; set data.num_classes={top + 1} if there really are "
            f"{top + 1} classes, or fix the labels"
        )
    return [str(i) for i in range(top + 1)]


def _ranges(values: list[int]) -> str:
    """``[1, 2, 3, 7]`` -> ``"1-3, 7"``."""
    spans: list[list[int]] = []
    for v in values:
        if spans and v == spans[-1][1] + 1:
            spans[-1][1] = v
        else:
            spans.append([v, v])
    text = [f"{a}-{b}" if a != b else str(a) for a, b in spans[:5]]
    return ", ".join(text) + (", ..." if len(spans) > 5 else "")


def _check_image_layout(path: Path, images: np.ndarray) -> None:
    """Square images, grey (N x H x W) or with a trailing channel axis of 1 or 3 (N x H x W x C)."""
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[3] not in (1, 3)):
        raise DatasetError(
            f"{path} holds images of shape {list(images.shape)}, expected N x H x W or N x H x W x C "
            "with 1 or 3 channels"
        )
    if images.shape[1] != images.shape[2]:
        raise DatasetError(
            f"{path} holds {images.shape[1]}x{images.shape[2]} images; the networks take square images "
            "(data-prepare dataset=image_folder resizes to dataset.image_size)"
        )


def _check_declared_channels(manifest: dict[str, Any] | None, images: np.ndarray, data_dir: Path) -> None:
    declared = manifest.get("channels") if manifest else None
    found = 1 if images.ndim == 3 else int(images.shape[3])
    if declared is not None and declared != found:
        raise DatasetError(f"{data_dir / MANIFEST} declares {declared} channels but the images have {found}")


def load_idx_dataset(data_dir: str | Path, num_classes: int | None = None) -> IdxDataset:
    """Load and validate a dataset directory; every problem raises :class:`DatasetError` naming it.

    ``num_classes`` must agree with the manifest when it declares classes; without a manifest it allows
    labels that leave some classes without examples.
    """
    data_dir = Path(data_dir)
    if not data_dir.exists():
        raise DatasetError(f"dataset directory {data_dir} does not exist")
    if not data_dir.is_dir():
        raise DatasetError(f"dataset path {data_dir} is not a directory")
    stems = [stem for pair in SPLIT_FILES.values() for stem in pair]
    missing = [f"{stem}.gz" for stem in stems if _resolve(data_dir, stem) is None]
    if missing:
        raise DatasetError(f"dataset directory {data_dir} is missing {', '.join(missing)}")
    manifest = _read_manifest(data_dir)
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for split, (images_stem, labels_stem) in SPLIT_FILES.items():
        images_path = _resolve(data_dir, images_stem)
        labels_path = _resolve(data_dir, labels_stem)
        assert images_path is not None and labels_path is not None
        images = read_idx(images_path, (IMAGES_MAGIC, COLOUR_IMAGES_MAGIC), manifest)
        labels = read_idx(labels_path, LABELS_MAGIC, manifest)
        _check_image_layout(images_path, images)
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
    class_names = _class_names(manifest, [arrays["train"][1], arrays["test"][1]], data_dir, num_classes)
    _check_declared_channels(manifest, arrays["train"][0], data_dir)
    return IdxDataset(
        train_images=arrays["train"][0],
        train_labels=arrays["train"][1],
        test_images=arrays["test"][0],
        test_labels=arrays["test"][1],
        class_names=class_names,
        manifest=manifest,
    )
