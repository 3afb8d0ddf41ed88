"""One model on every DDP rank: rank 0's buffers copied to the others, and a digest of what each rank holds.

Imports torch only when called.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import lightning.pytorch as pl
    import torch
    from torch import nn

log = logging.getLogger("trainer")


def broadcast_buffers(module: nn.Module, src: int = 0) -> None:
    """Overwrite every rank's buffers of ``module`` with rank ``src``'s; nothing to do in a single process."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
        return
    for buffer in module.buffers():
        dist.broadcast(buffer, src)


def network_state(net: nn.Module) -> dict[str, torch.Tensor]:
    """The network's parameters and buffers as ``model.pt`` holds them (its state dict, on the CPU)."""
    return {k: v.detach().cpu() for k, v in net.state_dict().items()}


def weights_digest(state: dict[str, Any]) -> str:
    """sha256 over the names, dtypes, shapes and bytes of a state dict's tensors, in key order."""
    import torch

    digest = hashlib.sha256()
    for name, tensor in state.items():
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)};".encode())
        digest.update(tensor.contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def log_rank_digest(trainer: pl.Trainer, net: nn.Module) -> str:
    """Log this rank's digest of ``net``'s parameters and buffers; return rank 0's (the same on every rank).

    Called when fitting has ended and before testing, which copies rank 0's state to every rank again: a
    digest that differs from rank 0's shows ranks that trained or validated different models.
    """
    own = weights_digest(network_state(net))
    if trainer.world_size < 2:
        return own
    log.info(
        "rank %d of %d: weights sha256 %s (parameters and buffers at the end of fitting)",
        trainer.global_rank,
        trainer.world_size,
        own,
    )
    primary = trainer.strategy.broadcast(own, src=0)
    if own != primary:
        log.warning(
            "rank %d holds other parameters or buffers than rank 0 at the end of fitting (sha256 %s, rank 0 %s)",
            trainer.global_rank,
            own,
            primary,
        )
    return primary
