"""Callbacks the tests plug into real runs through config overrides (importable via PYTHONPATH / sys.path).

- ``ShardRecorder`` (Lightning): each rank writes the training-image indices it sees each epoch.
- ``ReturnRecorder`` (Hydra): writes what the task function returned, as a sweeper receives it.
- ``SpoilLastEpoch`` (Lightning): wrecks the classifier head before the last epoch's validation.
- ``BatchRecorder`` (Lightning): each rank writes its batch size and batches per epoch.
- ``StallAtEpoch`` (Lightning): announces the start of an epoch in a file, then hangs (a run to kill there).
- ``BackwardCounter`` (Lightning): listens to ``on_after_backward`` and writes how often it was called.
- ``StepPathRecorder`` (Lightning): writes whether the module called backward and the optimiser directly.
- ``StateDigests`` (Lightning): each rank appends the digest of its network's buffers and of its parameters at
  the end of every validation.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from hydra.experimental.callback import Callback as HydraCallback
from torch import nn


class ShardRecorder(pl.Callback):
    def __init__(self, out_dir: str) -> None:
        self.out_dir = Path(out_dir)

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        indices = trainer.train_dataloader.indices().tolist()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / f"rank{trainer.global_rank}-epoch{trainer.current_epoch}.json"
        path.write_text(json.dumps(indices))


class ReturnRecorder(HydraCallback):
    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def on_job_end(self, config: Any, job_return: Any, **kwargs: Any) -> None:
        with self.path.open("a") as f:
            f.write(json.dumps(job_return.return_value) + "\n")


class SpoilLastEpoch(pl.Callback):
    """Make the last epoch's model predict class 0 for everything, so an earlier epoch validates best."""

    def on_validation_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking or trainer.current_epoch != trainer.max_epochs - 1:
            return
        head = [m for m in pl_module.modules() if isinstance(m, nn.Linear)][-1]
        with torch.no_grad():
            head.weight.zero_()
            head.bias.copy_(torch.arange(len(head.bias), 0, -1, dtype=head.bias.dtype))


class BatchRecorder(pl.Callback):
    def __init__(self, out_dir: str) -> None:
        self.out_dir = Path(out_dir)

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        batches = trainer.train_dataloader
        self.out_dir.mkdir(parents=True, exist_ok=True)
        record = {
            "batch_size": batches.batch_size,
            "batches": batches.batches_per_epoch,
            "world_size": trainer.world_size,
        }
        (self.out_dir / f"rank{trainer.global_rank}.json").write_text(json.dumps(record))


class BackwardCounter(pl.Callback):
    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.calls = 0

    def on_after_backward(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.calls += 1

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.path.write_text(str(self.calls))


class StepPathRecorder(pl.Callback):
    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.path.write_text(json.dumps({"direct": pl_module._direct_step}))


class StallAtEpoch(pl.Callback):
    def __init__(self, epoch: int, marker: str) -> None:
        self.epoch = epoch
        self.marker = Path(marker)

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.current_epoch == self.epoch:
            self.marker.write_text(str(self.epoch))
            time.sleep(3600)


def state_digest(tensors: dict[str, torch.Tensor]) -> str:
    """sha256 over the names and bytes of ``tensors``, in key order."""
    digest = hashlib.sha256()
    for name, tensor in tensors.items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


class StateDigests(pl.Callback):
    """Validation reads the buffers (BatchNorm running statistics) as they are when it ends."""

    def __init__(self, out_dir: str) -> None:
        self.out_dir = Path(out_dir)

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        net = pl_module.net
        record = {
            "epoch": trainer.current_epoch,
            "buffers": state_digest(dict(net.named_buffers())),
            "parameters": state_digest(dict(net.named_parameters())),
        }
        self.out_dir.mkdir(parents=True, exist_ok=True)
        with (self.out_dir / f"rank{trainer.global_rank}.jsonl").open("a") as f:
            f.write(json.dumps(record) + "\n")
