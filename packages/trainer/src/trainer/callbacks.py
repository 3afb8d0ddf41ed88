"""Callbacks the trainer always installs: run history (epoch times, validation accuracy), the best weights
by validation accuracy, and the NaN guard. Progress displays live in :mod:`trainer.progress`."""

from __future__ import annotations

import time
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.trainer.states import TrainerFn

from trainer.errors import NonFiniteLossError


def _sync(trainer: pl.Trainer) -> None:
    if trainer.strategy.root_device.type == "cuda":
        torch.cuda.synchronize(trainer.strategy.root_device)


class RunHistory(pl.Callback):
    """Wall seconds of each epoch's training loop (validation excluded) and each epoch's validation accuracy.

    The lists are part of the checkpoint, so a resumed run reports every epoch, not only those it ran.
    """

    def __init__(self) -> None:
        self.epoch_times_s: list[float] = []
        self.val_accuracy: list[float] = []
        self._elapsed = 0.0
        self._resumed_at: float | None = None

    def _pause(self, trainer: pl.Trainer) -> None:
        if self._resumed_at is not None:
            _sync(trainer)
            self._elapsed += time.perf_counter() - self._resumed_at
            self._resumed_at = None

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        _sync(trainer)
        self._elapsed = 0.0
        self._resumed_at = time.perf_counter()

    def on_validation_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._pause(trainer)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        acc = trainer.callback_metrics.get("val/acc")
        if acc is not None:
            self.val_accuracy.append(float(acc))
        if trainer.state.fn == TrainerFn.FITTING and not trainer.fit_loop.epoch_loop.done:
            self._resumed_at = time.perf_counter()

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._pause(trainer)
        self.epoch_times_s.append(round(self._elapsed, 4))

    @property
    def best_val_accuracy(self) -> float | None:
        return max(self.val_accuracy) if self.val_accuracy else None

    def state_dict(self) -> dict[str, Any]:
        return {"epoch_times_s": list(self.epoch_times_s), "val_accuracy": list(self.val_accuracy)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.epoch_times_s = list(state_dict.get("epoch_times_s", []))
        self.val_accuracy = list(state_dict.get("val_accuracy", []))


class BestWeights(pl.Callback):
    """Keep the weights of the epoch with the highest validation accuracy; put them back when fitting ends.

    The model that is tested and saved is therefore the one a sweep's selection step should compare:
    ``best_score`` is its validation accuracy and ``best_epoch`` (1-based) the epoch it comes from. Ties keep
    the earlier epoch. Without validation nothing is kept and the last epoch's weights stay. The kept weights
    are part of the checkpoint, so a resumed run restores the same model.
    """

    def __init__(self, monitor: str = "val/acc") -> None:
        self.monitor = monitor
        self.best_score: float | None = None
        self.best_epoch: int | None = None
        self._weights: dict[str, torch.Tensor] | None = None

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking or trainer.state.fn != TrainerFn.FITTING:
            return
        score = trainer.callback_metrics.get(self.monitor)
        if score is None:
            return
        if self.best_score is None or float(score) > self.best_score:
            self.best_score, self.best_epoch = float(score), trainer.current_epoch + 1
            self._weights = {k: v.detach().clone() for k, v in pl_module.state_dict().items()}

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._weights is not None:
            pl_module.load_state_dict(self._weights)

    def state_dict(self) -> dict[str, Any]:
        weights = {k: v.cpu() for k, v in self._weights.items()} if self._weights is not None else None
        return {"best_score": self.best_score, "best_epoch": self.best_epoch, "weights": weights}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.best_score = state_dict.get("best_score")
        self.best_epoch = state_dict.get("best_epoch")
        self._weights = state_dict.get("weights")


def training_loss(outputs: Any) -> torch.Tensor | None:
    """The (last) loss in what ``training_step`` returned (a tensor, or a dict with ``loss``)."""
    return outputs["loss"] if isinstance(outputs, dict) else outputs


def step_losses(outputs: Any, batch_idx: int) -> tuple[int, torch.Tensor] | None:
    """The epoch index of the first batch a training step call covered, and each of its batches' losses.

    One batch per call: ``(batch_idx, [loss])``. A :class:`~trainer.batches.BatchGroup`'s call returns every
    step's loss and where the group starts (``ClassifierModule._train_group``).
    """
    if isinstance(outputs, dict) and "losses" in outputs:
        return int(outputs["first_batch"]), outputs["losses"]
    loss = training_loss(outputs)
    return None if loss is None else (batch_idx, loss.reshape(1))


def crossed(done: int, count: int, every: int) -> bool:
    """Whether the last ``count`` of ``done`` batches reached a multiple of ``every``."""
    return done // every > (done - count) // every


class NonFiniteLossGuard(pl.Callback):
    """Stop training with :class:`NonFiniteLossError` once a training loss is NaN or infinite.

    On the CPU each loss is checked as it comes. Reading a loss off an accelerator waits for the device, so
    there (or with ``defer=True``) the first bad batch is recorded on the device and read back every
    ``trainer.log_every_n_steps`` batches, when Lightning syncs to log anyway, and at the end of each epoch.
    """

    def __init__(self, defer: bool | None = None) -> None:
        self.defer = defer
        # the epoch's first bad batch index (-1 while there is none) and its loss, as device scalars: updated
        # with torch.where and Python numbers, so no step copies anything to or from the device
        self._first_bad: tuple[torch.Tensor, torch.Tensor] | None = None

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._first_bad = None

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        found = step_losses(outputs, batch_idx)
        if found is None:
            return
        start, losses = found
        losses = losses.detach().float()
        bad = ~torch.isfinite(losses)
        defer = self.defer if self.defer is not None else losses.device.type != "cpu"
        if not defer:
            if bad.any():
                position = int(bad.nonzero()[0])
                self._stop(trainer, start + position, float(losses[position]))
            return
        if self._first_bad is None:
            self._first_bad = (
                torch.full((), -1, device=losses.device),
                torch.zeros((), device=losses.device),
            )
        index, value = self._first_bad
        position = bad.int().argmax()  # the first bad one, if any
        first = (index < 0) & bad.any()
        self._first_bad = (
            torch.where(first, start + position, index),
            torch.where(first, losses[position], value),
        )
        if crossed(start + len(losses), len(losses), max(1, trainer.log_every_n_steps)):
            self._check(trainer)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._check(trainer)

    def _check(self, trainer: pl.Trainer) -> None:
        if self._first_bad is None:
            return
        index, value = self._first_bad
        if (batch_idx := int(index)) >= 0:
            self._stop(trainer, batch_idx, float(value))

    @staticmethod
    def _stop(trainer: pl.Trainer, batch_idx: int, loss: float) -> None:
        raise NonFiniteLossError(
            f"training loss became {loss} at epoch {trainer.current_epoch}, batch {batch_idx}; "
            "lower model.optimizer.lr or check the input data"
        )
