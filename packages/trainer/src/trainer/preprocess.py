"""The one definition of the network's input: raw uint8 pixels / 255, then ``(x - mean) / std``.

``mean`` and ``std`` are the training split's statistics on the 0-1 scale (``metrics.json`` records them
under ``preprocessing``). Training and :func:`trainer.predict` both go through these functions, so a saved
model sees at prediction time exactly what it saw in training.
"""

from __future__ import annotations

import torch

PIXEL_SCALE = 255


def channels_first(images: torch.Tensor) -> torch.Tensor:
    """Dataset-file layout (N x H x W, or N x H x W x C for colour) as the networks' N x C x H x W."""
    if images.dim() == 3:
        return images.unsqueeze(1)
    return images.permute(0, 3, 1, 2).contiguous()


def to_unit_scale(images: torch.Tensor) -> torch.Tensor:
    """uint8 images (N x H x W or N x 1 x H x W) as float32 N x 1 x H x W on the 0-1 scale."""
    if images.dtype != torch.uint8:
        raise TypeError(f"expected raw uint8 pixels (0-255), got {images.dtype}")
    if images.dim() == 3:
        images = images.unsqueeze(1)
    return images.float().div_(PIXEL_SCALE)


def normalise_(images: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    """Standardise 0-1 scale images in place with the training split's ``mean`` and ``std``."""
    return images.sub_(mean).div_(std)
