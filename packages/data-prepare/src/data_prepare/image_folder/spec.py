"""The ``dataset=image_folder`` settings, read and checked from ``conf/dataset/image_folder.yaml``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from data_prepare.errors import PrepareError

RESIZE_POLICIES = ("crop", "pad", "stretch", "none")
#: Pillow's ``Image.Resampling`` member for each ``resample`` name
RESAMPLE_FILTERS = {
    "nearest": "NEAREST",
    "box": "BOX",
    "bilinear": "BILINEAR",
    "hamming": "HAMMING",
    "bicubic": "BICUBIC",
    "lanczos": "LANCZOS",
}
BAD_IMAGE_POLICIES = ("fail", "skip")
#: one byte per label in the IDX labels file
MAX_CLASSES = 256


@dataclass(frozen=True)
class ImageFolderSpec:
    """How a folder (or CSV list, or bucket) of labelled images becomes an IDX dataset artifact."""

    name: str = "image_folder"
    image_size: int = 28
    channels: int = 1
    resize: str = "crop"
    resample: str = "bilinear"
    on_bad_image: str = "fail"
    max_image_pixels: int = 40_000_000
    test_fraction: float = 0.2
    extensions: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".webp")
    chunk_size: int = 1000
    workers: int | None = None
    compress_level: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "extensions", _extensions(self.extensions))
        _check(self.channels in (1, 3), f"dataset.channels={self.channels}: use 1 (grey) or 3 (RGB)")
        _check(self.image_size >= 1, f"dataset.image_size={self.image_size}: must be at least 1")
        _check(
            self.resize in RESIZE_POLICIES,
            f"dataset.resize={self.resize}: use one of {', '.join(RESIZE_POLICIES)}",
        )
        _check(
            self.resample in RESAMPLE_FILTERS,
            f"dataset.resample={self.resample}: use one of {', '.join(RESAMPLE_FILTERS)}",
        )
        _check(
            self.on_bad_image in BAD_IMAGE_POLICIES,
            f"dataset.on_bad_image={self.on_bad_image}: use fail or skip",
        )
        _check(self.max_image_pixels >= 1, f"dataset.max_image_pixels={self.max_image_pixels}: must be >= 1")
        _check(
            0.0 <= self.test_fraction < 1.0,
            f"dataset.test_fraction={self.test_fraction}: must be at least 0 and below 1",
        )
        _check(bool(self.extensions), "dataset.extensions is empty: list the image file extensions to read")
        _check(self.chunk_size >= 1, f"dataset.chunk_size={self.chunk_size}: must be at least 1")
        _check(
            0 <= self.compress_level <= 9,
            f"dataset.compress_level={self.compress_level}: use 0 (stored) to 9 (smallest)",
        )
        _check(
            self.workers is None or self.workers >= 1,
            f"dataset.workers={self.workers}: use null (every CPU this process may use) or a count >= 1",
        )

    @property
    def mode(self) -> str:
        """The Pillow mode of the output pixels."""
        return "L" if self.channels == 1 else "RGB"

    @property
    def item_shape(self) -> tuple[int, ...]:
        """One image's IDX dimensions: ``HxW`` for grey, ``HxWx3`` for RGB (row-major HWC)."""
        side = self.image_size
        return (side, side) if self.channels == 1 else (side, side, 3)

    @property
    def item_bytes(self) -> int:
        return self.image_size * self.image_size * self.channels

    def worker_count(self) -> int:
        """``workers``, or the CPUs this process may run on (its affinity mask, not the machine's count)."""
        if self.workers is not None:
            return self.workers
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:  # not Linux
            return os.cpu_count() or 1

    def settings(self) -> dict[str, Any]:
        """The settings that decide the artifact's bytes (``workers`` does not), as plain JSON values."""
        values = asdict(self)
        values.pop("workers")
        values["extensions"] = list(self.extensions)
        return values

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> ImageFolderSpec:
        """Read the dataset config group (unknown keys such as ``format`` are the CLI's business)."""
        defaults = cls()
        try:
            workers = cfg.get("workers", defaults.workers)
            return cls(
                name=str(cfg.get("name", defaults.name)),
                image_size=int(cfg.get("image_size", defaults.image_size)),
                channels=int(cfg.get("channels", defaults.channels)),
                resize=str(cfg.get("resize", defaults.resize)).lower(),
                resample=str(cfg.get("resample", defaults.resample)).lower(),
                on_bad_image=str(cfg.get("on_bad_image", defaults.on_bad_image)).lower(),
                max_image_pixels=int(cfg.get("max_image_pixels", defaults.max_image_pixels)),
                test_fraction=float(cfg.get("test_fraction", defaults.test_fraction)),
                extensions=_extensions(cfg.get("extensions", defaults.extensions)),
                chunk_size=int(cfg.get("chunk_size", defaults.chunk_size)),
                workers=None if workers is None else int(workers),
                compress_level=int(cfg.get("compress_level", defaults.compress_level)),
            )
        except (TypeError, ValueError) as e:
            raise PrepareError(f"dataset=image_folder: {e}") from None


def _extensions(values: Any) -> tuple[str, ...]:
    """Lower case, with the dot, each once, in the configured order."""
    if isinstance(values, str):
        values = [values]
    return tuple(dict.fromkeys("." + str(v).lower().lstrip(".") for v in values or ()))


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise PrepareError(message)
