"""Decode and check IDX files (the MNIST container format) without trusting their headers."""

from __future__ import annotations

import gzip
import zlib
from typing import TYPE_CHECKING

from data_prepare.errors import PrepareError

if TYPE_CHECKING:
    import numpy as np

# IDX magic: two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions.
IMAGES_MAGIC = 0x00000803
RGB_IMAGES_MAGIC = 0x00000804  # NxHxWx3
LABELS_MAGIC = 0x00000801


def header(magic: int, dims: tuple[int, ...]) -> bytes:
    """An IDX header: the magic number, then each dimension, as big-endian 32-bit integers."""
    return b"".join(value.to_bytes(4, "big") for value in (magic, *dims))


def gunzip(name: str, data: bytes) -> bytes:
    """Decompress a ``.gz`` file's bytes, naming the file when it is not gzip or cut short."""
    try:
        return gzip.decompress(data)
    except gzip.BadGzipFile:
        raise PrepareError(
            f"{name}: not a gzip file (is it an HTML error page or an uncompressed copy?)"
        ) from None
    except (EOFError, zlib.error) as e:
        raise PrepareError(f"{name}: truncated or corrupt gzip data ({e}); fetch the file again") from None


def parse_idx(name: str, raw: bytes, *, magic: int, dims: tuple[int, ...]) -> np.ndarray:
    """Return the uint8 array in ``raw`` after checking its magic number, shape and length.

    ``dims`` is the expected shape; the first dimension is the item count.
    """
    import numpy as np  # here, not at the top: image-decoding processes import this module and need no numpy

    ndim = magic & 0xFF
    header_len = 4 + 4 * ndim
    found_magic = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else None
    if found_magic is not None and found_magic != magic:
        raise PrepareError(
            f"{name}: wrong IDX header: magic number 0x{found_magic:08x}, expected 0x{magic:08x} "
            f"({'images' if magic == IMAGES_MAGIC else 'labels'}, unsigned byte, {ndim} dimension(s))"
        )
    if len(raw) < header_len:
        raise PrepareError(f"{name}: {len(raw)} bytes is too short for an IDX header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if shape != dims:
        raise PrepareError(f"{name}: IDX dimensions {list(shape)}, expected {list(dims)}")
    body = len(raw) - header_len
    expected = 1
    for dim in shape:
        expected *= dim
    if body != expected:
        raise PrepareError(
            f"{name}: {body} data bytes after the header, expected {expected} for shape {list(shape)}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_len).reshape(shape)


def check_labels(name: str, labels: np.ndarray, num_classes: int) -> None:
    """Every label must name one of the dataset's classes."""
    if labels.size and int(labels.max()) >= num_classes:
        bad = int((labels >= num_classes).argmax())
        raise PrepareError(f"{name}: label {int(labels[bad])} at index {bad} is outside 0..{num_classes - 1}")
