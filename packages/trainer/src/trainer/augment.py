"""Batched on-device augmentation: one random translation (and optional horizontal flip) per image.

Everything happens on whole batches with tensor ops on the training device; no per-sample Python. The random
draws come from the generator passed in (see :class:`trainer.batches.TensorBatches`), never from torch's global
one, so a resumed run draws what an uninterrupted run would have drawn.
Horizontal flips suit clothing (Fashion-MNIST) but not digits, so they are opt-in per dataset config.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def augment_batch(
    images: torch.Tensor,
    generator: torch.Generator | None = None,
    *,
    max_shift: int = 0,
    hflip: bool = False,
    fill: float = 0.0,
) -> torch.Tensor:
    """Return ``images`` (N x C x H x W) randomly shifted by up to ``max_shift`` pixels and maybe flipped."""
    n, _, height, width = images.shape
    device = images.device
    if hflip:
        flip = torch.rand(n, device=device, generator=generator) < 0.5
        images = torch.where(flip[:, None, None, None], images.flip(-1), images)
    if max_shift > 0:
        padded = F.pad(images, (max_shift,) * 4, value=fill)
        offsets = torch.randint(0, 2 * max_shift + 1, (2, n, 1), device=device, generator=generator)
        rows = offsets[0] + torch.arange(height, device=device)  # N x H
        cols = offsets[1] + torch.arange(width, device=device)  # N x W
        batch = torch.arange(n, device=device)[:, None, None]
        # advanced indexing moves the channel axis last: N x H x W x C
        images = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)
    return images
