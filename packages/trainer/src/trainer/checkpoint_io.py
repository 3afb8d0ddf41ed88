"""Checkpoint writes that are atomic, so a task killed mid-save still leaves a loadable last.ckpt."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from trainer.atomic import atomic_write


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's torch checkpoint IO, writing through :func:`trainer.atomic.atomic_write`."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None
    ) -> None:
        atomic_write(Path(path), lambda f: torch.save(checkpoint, f))
