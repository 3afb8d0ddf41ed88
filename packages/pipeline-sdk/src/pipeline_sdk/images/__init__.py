"""Component images: tags, the image lock, and `pipeline-sdk build-images`."""

from pipeline_sdk.images.lock import ImageLock, LockedImage, image_reference, load_lock

__all__ = ["ImageLock", "LockedImage", "image_reference", "load_lock"]
