"""Fetch, verify and atomically publish an MNIST-family dataset artifact, or one made from a folder of labelled
images (a KFP pipeline component).

The image-folder names are imported on first use (PEP 562): ``import data_prepare`` does not load Pillow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from data_prepare.__about__ import __version__
from data_prepare.errors import PrepareError
from data_prepare.prepare import PrepareResult, prepare
from data_prepare.spec import IDX_FILES, DatasetSpec

if TYPE_CHECKING:
    from data_prepare.image_folder import ImageFolderSpec, prepare_image_folder

__all__ = [
    "IDX_FILES",
    "DatasetSpec",
    "ImageFolderSpec",
    "PrepareError",
    "PrepareResult",
    "__version__",
    "prepare",
    "prepare_image_folder",
]


def __getattr__(name: str) -> Any:
    if name in ("ImageFolderSpec", "prepare_image_folder"):
        from data_prepare import image_folder

        return getattr(image_folder, name)
    raise AttributeError(f"module 'data_prepare' has no attribute {name!r}")
