"""One ``{"b64": ...}`` instance: base64 PNG or JPEG bytes decoded to the model's pixels, bombs refused.

The image's width and height are read from its header and must be the model's before any pixel is
decoded, so a small file declaring a huge image (a decompression bomb) costs nothing; Pillow's own
``MAX_IMAGE_PIXELS`` check in ``Image.open`` refuses the most extreme ones even earlier.
"""

from __future__ import annotations

import base64
import binascii
import io

import numpy as np

from serve.errors import RequestError

FORMATS = ("PNG", "JPEG")
#: Pillow mode for a model's channel count
MODES = {1: "L", 3: "RGB"}


def decode_base64(value: object, where: str) -> bytes:
    """The bytes of a base64 string (standard alphabet; line breaks and spaces are ignored)."""
    if not isinstance(value, str):
        raise RequestError(f"{where}: b64 must be a string of base64 text, got {type(value).__name__}")
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise RequestError(f"{where}: b64 is not valid base64") from None


def decode_image(data: bytes, size: int, channels: int, where: str) -> np.ndarray:
    """PNG or JPEG ``data`` as uint8 pixels: H x W for one channel, else H x W x C (converted to the
    model's channels: colour to grey with ITU-R 601-2 luma, an alpha channel dropped)."""
    from PIL import Image

    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError as exc:
        raise RequestError(f"{where}: refused as a decompression bomb ({exc})") from None
    except Exception:  # Pillow raises many types for bytes that are not an image
        raise RequestError(f"{where}: b64 does not hold a PNG or JPEG image") from None
    with image:
        if image.size != (size, size):
            width, height = image.size
            raise RequestError(f"{where}: the model takes {size}x{size} images, got {height}x{width}")
        try:
            image.load()
            mode = MODES[channels]
            pixels = np.asarray(image if image.mode == mode else image.convert(mode), dtype=np.uint8)
        except Exception as exc:  # truncated or corrupt data only shows when decoding
            raise RequestError(f"{where}: the {image.format} image cannot be decoded ({exc})") from None
    return pixels
