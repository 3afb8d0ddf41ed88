"""A prediction request's body -> one uint8 batch, or a :class:`RequestError` naming what is wrong.

Body: ``{"instances": [...], "parameters": {...}}`` (Vertex AI's format; ``parameters`` is optional and
unused). An instance is an image as nested lists of integer pixels 0-255 (H x W, or H x W x C with C the
model's channels) or ``{"b64": "<base64 PNG or JPEG>"}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from serve.errors import RequestError
from serve.images import decode_base64, decode_image
from serve.limits import Limits


@dataclass(frozen=True)
class InputShape:
    """What the model takes: ``size`` x ``size`` images with ``channels`` channels."""

    size: int
    channels: int

    def layout(self) -> str:
        """The accepted nested-list layouts, e.g. ``28x28 or 28x28x1``."""
        square = f"{self.size}x{self.size}"
        return f"{square} or {square}x1" if self.channels == 1 else f"{square}x{self.channels}"


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_body(body: bytes, limits: Limits) -> list[Any]:
    """The request's instances, checked for JSON, shape of the envelope and count."""
    try:
        request = json.loads(body, parse_constant=_no_constants)
    except RecursionError:
        raise RequestError("the body nests too deeply") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise RequestError(f"the body is not JSON: {exc}") from None
    if not isinstance(request, dict):
        raise RequestError('the body must be a JSON object {"instances": [...]}')
    if "instances" not in request:
        raise RequestError('the body has no "instances" list')
    instances = request["instances"]
    if not isinstance(instances, list):
        raise RequestError(f'"instances" must be a list, got {type(instances).__name__}')
    if not instances:
        raise RequestError('"instances" is empty')
    if len(instances) > limits.max_instances:
        raise RequestError(
            f"{len(instances)} instances in one request; the limit is {limits.max_instances} "
            "(split the batch)"
        )
    parameters = request.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise RequestError(f'"parameters" must be an object, got {type(parameters).__name__}')
    return instances


def _checked_layout(array: np.ndarray, shape: InputShape, where: str) -> np.ndarray:
    """``array`` if it is the model's size and layout (an H x W x 1 grey image comes back H x W)."""
    got = array.shape
    grey = shape.channels == 1 and array.ndim == 2
    with_channels = array.ndim == 3 and got[2] == shape.channels
    if not (grey or with_channels):
        shown = "x".join(map(str, got))
        raise RequestError(f"{where}: the model takes {shape.layout()} pixel arrays, got {shown}")
    if got[:2] != (shape.size, shape.size):
        raise RequestError(
            f"{where}: the model takes {shape.size}x{shape.size} images, got {got[0]}x{got[1]}"
        )
    return array[..., 0] if with_channels and shape.channels == 1 else array


def _pixels_from_lists(value: list[Any], shape: InputShape, where: str) -> np.ndarray:
    try:
        array = np.array(value)
    except (ValueError, TypeError, OverflowError):
        raise RequestError(f"{where}: not a rectangular array of pixels") from None
    if array.size == 0:
        raise RequestError(f"{where}: an empty array, not an image")
    if array.dtype.kind not in "iu":
        if array.dtype.kind in "fc":
            raise RequestError(f"{where}: pixels must be integers 0-255, got non-integer numbers")
        raise RequestError(f"{where}: pixels must be integers 0-255 in nested lists")
    array = _checked_layout(array, shape, where)
    low, high = int(array.min()), int(array.max())
    if low < 0 or high > 255:
        raise RequestError(f"{where}: pixel values must lie in 0-255, got {low} to {high}")
    return array.astype(np.uint8)


def decode_instance(instance: Any, shape: InputShape, where: str) -> np.ndarray:
    """One instance as uint8 pixels (H x W, or H x W x C for a colour model)."""
    if isinstance(instance, list):
        return _pixels_from_lists(instance, shape, where)
    if isinstance(instance, dict):
        if set(instance) != {"b64"}:
            raise RequestError(f'{where}: an object instance must be {{"b64": "<base64 PNG or JPEG>"}}')
        data = decode_base64(instance["b64"], where)
        return decode_image(data, shape.size, shape.channels, where)
    raise RequestError(
        f'{where}: expected nested lists of pixels or {{"b64": ...}}, got {type(instance).__name__}'
    )


def decode_batch(body: bytes, shape: InputShape, limits: Limits) -> np.ndarray:
    """The request body as one uint8 batch: N x H x W (grey) or N x C x H x W."""
    instances = parse_body(body, limits)
    pixels = [decode_instance(item, shape, f"instance {i}") for i, item in enumerate(instances)]
    batch = np.stack(pixels)
    return batch if shape.channels == 1 else batch.transpose(0, 3, 1, 2)
