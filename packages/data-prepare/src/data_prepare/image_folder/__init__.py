"""``dataset=image_folder``: a folder (or CSV list, or bucket) of labelled images as an IDX dataset artifact.

The names are imported on first use (PEP 562), so a decoding process that imports ``worker`` loads only what
decoding needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from data_prepare.image_folder.run import prepare_image_folder
    from data_prepare.image_folder.spec import ImageFolderSpec

__all__ = ["ImageFolderSpec", "prepare_image_folder"]


def __getattr__(name: str) -> Any:
    if name == "ImageFolderSpec":
        from data_prepare.image_folder.spec import ImageFolderSpec

        return ImageFolderSpec
    if name == "prepare_image_folder":
        from data_prepare.image_folder.run import prepare_image_folder

        return prepare_image_folder
    raise AttributeError(f"module 'data_prepare.image_folder' has no attribute {name!r}")
