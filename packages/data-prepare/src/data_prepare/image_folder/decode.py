"""One image file -> the artifact's pixels, with the documented Pillow operations, or :class:`BadImage`.

In order:

1. ``Image.open``; its header size is checked against ``max_image_pixels`` before any pixel is decoded.
2. ``im.load()``: decodes now, so a truncated file fails here rather than later.
3. ``ImageOps.exif_transpose(im)`` when the EXIF orientation is not 1 (the camera's rotation applied).
4. ``im.convert("L")`` (channels 1) or ``im.convert("RGB")`` (channels 3), skipped when already that mode.
   Alpha is dropped, not composited: transparent pixels keep whatever colour they store.
5. The resize policy, with ``resample`` passed explicitly (Pillow's default differs between versions), for
   ``S = image_size``:

   - ``crop`` (torchvision's ``Resize(S)`` + ``CenterCrop(S)``): the shorter side becomes ``S`` and the longer
     ``int(S * long / short)``, ``im.resize((w', h'), resample)``; then
     ``im.crop((left, top, left + S, top + S))`` with ``left = round((w' - S) / 2)`` (``top`` alike);
   - ``pad``: the longer side becomes ``S`` and the shorter ``max(1, int(S * short / long))``,
     ``im.resize``; then pasted on a black ``SxS`` image at ``((S - w') // 2, (S - h') // 2)``;
   - ``stretch``: ``im.resize((S, S), resample)``;
   - ``none``: any other size than ``SxS`` is a bad image.

   An image already ``SxS`` is not resampled (Pillow's resize to the same size is a copy anyway).
6. ``im.tobytes()``: row-major ``HxW`` (grey) or ``HxWx3`` (RGB) uint8, as in the IDX file.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError

from data_prepare.image_folder.spec import RESAMPLE_FILTERS, ImageFolderSpec

ORIENTATION = 0x0112  # the EXIF tag exif_transpose reads


class BadImage(Exception):
    """The file is not an image this run can use; the message is the reason (the caller names the file)."""


@contextmanager
def pillow_configured() -> Iterator[None]:
    """Pillow's process-wide settings for decoding, restored afterwards.

    Our own ``max_image_pixels`` check replaces Pillow's decompression-bomb limit, which would otherwise
    warn or raise first at its own threshold; palette-transparency warnings say nothing about the data.
    """
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message="Palette images with Transparency", category=UserWarning
            )
            yield
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def decode(source: str | IO[bytes], spec: ImageFolderSpec) -> bytes:
    """The pixels of one image file (a path or an open binary file) at ``spec``'s size and channels."""
    try:
        im = Image.open(source)
    except UnidentifiedImageError:
        raise BadImage("not an image Pillow can read") from None
    except OSError as e:
        raise BadImage(f"cannot read it: {e.strerror or e}") from None
    with im:
        width, height = im.size
        if width * height > spec.max_image_pixels:
            raise BadImage(
                f"{width}x{height} = {width * height:,} pixels is over max_image_pixels={spec.max_image_pixels:,}"
            )
        try:
            im.load()
            if _has_exif(im.info) and im.getexif().get(ORIENTATION, 1) != 1:
                im = ImageOps.exif_transpose(im)
            if im.mode != spec.mode:
                im = im.convert(spec.mode)
            im = fit(im, spec)
        except BadImage:
            raise
        except Exception as e:  # Pillow's decoders raise OSError, SyntaxError, ValueError, zlib.error...
            raise BadImage(f"does not decode ({type(e).__name__}: {e})") from None
        return im.tobytes()


def _has_exif(info: dict) -> bool:
    """Whether the file carries EXIF at all (cheap; parsing it is not): JPEG, WebP and PNG's eXIf chunk put it
    in ``info["exif"]`` (PNG's once loaded), older PNG writers in a "Raw profile type exif" text chunk."""
    return "exif" in info or "Raw profile type exif" in info


def fit(im: Image.Image, spec: ImageFolderSpec) -> Image.Image:
    """Apply the resize policy (see the module docstring)."""
    side = spec.image_size
    width, height = im.size
    if (width, height) == (side, side):
        return im
    if spec.resize == "none":
        raise BadImage(f"{width}x{height}, expected {side}x{side} (resize=none)")
    resample = Image.Resampling[RESAMPLE_FILTERS[spec.resample]]
    if spec.resize == "stretch":
        return im.resize((side, side), resample)
    short, long = sorted((width, height))
    if spec.resize == "crop":
        size = (side, int(side * long / short))
        new_w, new_h = size if width <= height else size[::-1]
        im = im.resize((new_w, new_h), resample)
        if (new_w, new_h) == (side, side):  # a square image: nothing to crop
            return im
        left, top = round((new_w - side) / 2), round((new_h - side) / 2)
        return im.crop((left, top, left + side, top + side))
    size = (side, max(1, int(side * short / long)))
    new_w, new_h = size[::-1] if width <= height else size
    canvas = Image.new(im.mode, (side, side), 0)
    canvas.paste(im.resize((new_w, new_h), resample), ((side - new_w) // 2, (side - new_h) // 2))
    return canvas
