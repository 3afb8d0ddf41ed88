"""Progress displays: Lightning's bar in a terminal, periodic plain lines in logs (Vertex AI, CI).

Neither reads a device tensor on every batch: reading one waits for the device to finish its queued work.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.callbacks import TQDMProgressBar

from trainer.callbacks import crossed, step_losses, training_loss

log = logging.getLogger("trainer")


class LossProgressBar(TQDMProgressBar):
    """Lightning's progress bar with the training loss read every ``trainer.log_every_n_steps`` batches.

    The module logs the step loss for the loggers only; were it a progress-bar metric, Lightning would turn it
    into a Python number after every batch.
    """

    def __init__(self) -> None:
        super().__init__()
        self._loss: float | None = None

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        found = step_losses(outputs, batch_idx)
        if found is not None:
            start, losses = found
            # every log_every_n_steps batches, and the first, so the bar shows a loss from the start
            if crossed(start + len(losses), len(losses), max(1, trainer.log_every_n_steps)) or start == 0:
                self._loss = float(losses[-1])
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)

    def get_metrics(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> dict[str, int | str | float]:
        metrics = super().get_metrics(trainer, pl_module)
        if self._loss is not None:
            metrics = {"train/loss": self._loss, **metrics}
        return metrics


class PlainProgress(pl.Callback):
    """Periodic one-line progress messages, for logs that are not a terminal (Vertex AI, CI)."""

    def __init__(self, lines_per_epoch: int = 4) -> None:
        self.lines_per_epoch = max(1, lines_per_epoch)
        self._epoch_start = 0.0

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._epoch_start = time.perf_counter()

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        # counted in batches (optimiser steps), also when the loop hands the module groups of them (whole
        # epochs only, so a group's batches_per_epoch is the epoch's)
        loader = trainer.train_dataloader
        total = loader.batches_per_epoch if getattr(loader, "group", 1) > 1 else trainer.num_training_batches
        if not trainer.is_global_zero or not isinstance(total, int) or total < 2 * self.lines_per_epoch:
            return
        found = step_losses(outputs, batch_idx)
        start, count = (found[0], len(found[1])) if found is not None else (batch_idx, 1)
        done = start + count
        if crossed(done, count, total // self.lines_per_epoch) and done < total:
            loss = training_loss(outputs)
            loss_text = f" train/loss {float(loss):.4f}" if loss is not None else ""
            log.info(
                "epoch %d/%d batch %d/%d%s (%.1f s)",
                trainer.current_epoch + 1,
                trainer.max_epochs,
                done,
                total,
                loss_text,
                time.perf_counter() - self._epoch_start,
            )

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        # epoch-level training metrics are computed after this hook; show the latest loss and validation
        shown = {
            k: float(v)
            for k, v in trainer.callback_metrics.items()
            if k.startswith("val/") or k == "train/loss"
        }
        metrics = " ".join(f"{k} {v:.4f}" for k, v in sorted(shown.items()))
        log.info(
            "epoch %d/%d done in %.1f s: %s",
            trainer.current_epoch + 1,
            trainer.max_epochs,
            time.perf_counter() - self._epoch_start,
            metrics,
        )
