"""Component images: tags, the image lock, and `pipeline-sdk build-images`."""

from pipeline_sdk.errors import ImageBuildError
from pipeline_sdk.images.build import BuildOptions, build_images
from pipeline_sdk.images.builders import Builder, BuildSpec, detect_builder, make_builder
from pipeline_sdk.images.lock import ImageLock, LockedImage, image_reference, load_lock
from pipeline_sdk.images.packages import ComponentPackage, find_components
from pipeline_sdk.images.reference import image_tag, normalize_registry
from pipeline_sdk.images.registry import remote_config_digest

__all__ = [
    "BuildOptions",
    "BuildSpec",
    "Builder",
    "ComponentPackage",
    "ImageBuildError",
    "ImageLock",
    "LockedImage",
    "build_images",
    "detect_builder",
    "find_components",
    "image_reference",
    "image_tag",
    "load_lock",
    "make_builder",
    "normalize_registry",
    "remote_config_digest",
]
