"""The LightningModule: loss, metrics, optimiser and schedule around any classification network."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import lightning.pytorch as pl
import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics import MeanMetric
from torchmetrics.classification import MulticlassAccuracy, MulticlassConfusionMatrix

from trainer.batches import Batch, BatchGroup
from trainer.direct_step import can_step_directly, step_directly
from trainer.errors import TrainerError
from trainer.replicas import broadcast_buffers

OptimizerFactory = Callable[..., torch.optim.Optimizer]
SchedulerFactory = Callable[..., Any]


class ClassifierModule(pl.LightningModule):
    """Cross-entropy classifier with accuracy, loss and (on test) confusion-matrix metrics.

    ``optimizer`` and ``scheduler`` are factories (Hydra ``_partial_: true``). A scheduler whose signature
    takes ``total_steps`` (OneCycleLR) receives the run's optimiser-step count and is stepped every batch;
    ReduceLROnPlateau follows ``val/loss``; others are stepped once per epoch. Nothing but tensors and plain
    values goes into checkpoints, so they load with ``torch.load(weights_only=True)``. When it steps its own
    optimiser it also takes a :class:`~trainer.batches.BatchGroup` per training step call and steps once per
    batch in it (``accepts_batch_groups``).
    """

    accepts_batch_groups = True

    def __init__(
        self,
        net: nn.Module,
        optimizer: OptimizerFactory,
        scheduler: SchedulerFactory | None = None,
        num_classes: int = 10,
        label_smoothing: float = 0.0,
        compile: bool = False,
        channels_last: bool = True,
    ) -> None:
        super().__init__()
        self.net = net
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self.num_classes = num_classes
        self.label_smoothing = label_smoothing
        self.compile_net = compile
        self.channels_last = channels_last
        self._plateau_schedule = False  # set by configure_optimizers, before Lightning picks its loop
        self._direct_step = False  # set in on_train_start (trainer.direct_step)
        self._forward: Callable[[torch.Tensor], torch.Tensor] = net
        # training accuracy and loss as running sums on the device (torchmetrics' per-update bookkeeping
        # costs more than a small model's step); the image count is a plain int
        self.register_buffer("_train_correct", torch.zeros(()), persistent=False)
        self.register_buffer("_train_loss_sum", torch.zeros(()), persistent=False)
        self._train_seen = 0
        # each rank's own counts, summed in on_train_epoch_end: DDP must not overwrite them with rank 0's
        # when it broadcasts buffers (Lightning's loop)
        self._ddp_params_and_buffers_to_ignore = ["_train_correct", "_train_loss_sum"]
        for split in ("val", "test"):
            # inputs are the model's own argmax and validated labels: skip torchmetrics' per-step checks
            setattr(
                self, f"{split}_acc", MulticlassAccuracy(num_classes, average="micro", validate_args=False)
            )
            setattr(self, f"{split}_loss", MeanMetric())
        self.test_confusion = MulticlassConfusionMatrix(num_classes, validate_args=False)

    def __setattr__(self, name: str, value: Any) -> None:
        # Lightning sets _current_fx_name around each of its hook calls, several per step; on a small model
        # nn.Module.__setattr__'s parameter/module/buffer checks for a plain string cost as much as the
        # optimiser step
        if name == "_current_fx_name":
            self.__dict__[name] = value
        else:
            super().__setattr__(name, value)

    def setup(self, stage: str) -> None:
        # on the CPU too: oneDNN's convolutions work in channels-last, and NCHW tensors are reordered around
        # every one of them
        if self.channels_last:
            self.net.to(memory_format=torch.channels_last)
        if self.compile_net and self._forward is self.net:
            # kept outside the module tree so state_dict keys stay those of the plain network
            self.__dict__["_forward"] = torch.compile(self.net)

    def planned_steps(self) -> int:
        """Optimiser steps the run will take (Lightning's own estimate counts a batch group as one step)."""
        total = int(self.trainer.estimated_stepping_batches)  # loads the training batches if needed
        loader = self.trainer.train_dataloader
        if getattr(loader, "group", 1) > 1:  # only with whole epochs and no max_steps (IdxDataModule)
            total = loader.batches_per_epoch * int(self.trainer.max_epochs)
        return total

    def on_train_start(self) -> None:
        self._direct_step = not self.automatic_optimization and can_step_directly(
            self.trainer, self, self.optimizers()
        )
        total = self.planned_steps()
        for config in self.trainer.lr_scheduler_configs:
            planned = getattr(config.scheduler, "total_steps", None)
            if planned is not None and planned != total:
                raise TrainerError(
                    f"the checkpoint's learning-rate schedule was planned for {planned} steps but this run has "
                    f"{total}; resume with the original trainer.max_epochs and data.batch_size, or pass resume=false"
                )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.channels_last and x.dim() == 4:  # a network of the user's own may take other inputs
            x = x.contiguous(memory_format=torch.channels_last)
        return self._forward(x)

    def _step(self, batch: Batch, split: str) -> torch.Tensor:
        x, y = batch
        logits = self(x)
        loss = F.cross_entropy(logits, y, label_smoothing=self.label_smoothing if split == "train" else 0.0)
        preds = logits.argmax(dim=1)
        if split == "train":
            with torch.no_grad():
                self._train_correct += (preds == y).sum()
                self._train_loss_sum.add_(loss.detach(), alpha=len(y))
            self._train_seen += len(y)
            return loss
        acc: MulticlassAccuracy = getattr(self, f"{split}_acc")
        mean_loss: MeanMetric = getattr(self, f"{split}_loss")
        acc.update(preds, y)
        mean_loss.update(loss.detach(), weight=len(y))
        if split == "test":
            self.test_confusion.update(preds, y)
        return loss

    @property
    def automatic_optimization(self) -> bool:
        """Whether Lightning's closure loop steps the optimiser; otherwise :meth:`training_step` does.

        Lightning's automatic loop wraps every step in a closure and a dozen hook calls, a visible share of a
        small model's step (measured in the README's Speed section). Stepping here keeps what matters, since
        ``LightningOptimizer.step`` still runs the precision plugin, ``on_before_optimizer_step`` and step
        counting, and ``manual_backward`` the DDP gradient sync; where none of that does anything the module
        calls both directly (:mod:`trainer.direct_step`). Gradient clipping, gradient
        accumulation and ReduceLROnPlateau exist only in Lightning's loop, so a Trainer or scheduler that uses
        them gets that loop.
        """
        trainer = self._trainer
        if trainer is None:
            return True
        return (
            bool(trainer.gradient_clip_val) or trainer.accumulate_grad_batches != 1 or self._plateau_schedule
        )

    def training_step(self, batch: Batch | BatchGroup, batch_idx: int) -> torch.Tensor | dict[str, Any]:
        if isinstance(batch, BatchGroup):
            return self._train_group(batch)
        # logged for the loggers only on the steps they write (Lightning's logging costs about as much as a
        # small model's step) and never as a progress-bar metric, which Lightning reads back after every batch
        log_now = (self.global_step + 1) % max(1, self.trainer.log_every_n_steps) == 0
        loss = (
            self._step(batch, "train")
            if self.automatic_optimization
            else self._optimizer_step(batch, self.optimizers())
        )
        if log_now:
            self.log("train/loss", loss, on_step=True, on_epoch=False)
        return loss

    def _optimizer_step(self, batch: Batch, optimizer: Any) -> torch.Tensor:
        assert isinstance(optimizer, pl.core.optimizer.LightningOptimizer)
        optimizer.zero_grad()
        loss = self._step(batch, "train")
        if self._direct_step:
            loss.backward()
            step_directly(optimizer)
        else:
            self.manual_backward(loss)
            optimizer.step()
        self._step_schedulers("step")
        return loss

    def _train_group(self, group: BatchGroup) -> dict[str, Any]:
        """One optimiser step per batch of ``group``; the output carries every step's loss for the callbacks.

        Lightning writes step metrics and counts logged steps once per iteration, so the loss rows are written
        here, on the steps where one batch per iteration would have written them, and its logged-step counter
        is moved on by the group's extra steps: metrics.csv and the loggers get the same rows either way.
        """
        every = max(1, self.trainer.log_every_n_steps)
        optimizer = self.optimizers()
        losses = []
        for step, batch in enumerate(group.batches, start=self.global_step):
            loss = self._optimizer_step(batch, optimizer).detach()
            losses.append(loss)
            if (step + 1) % every == 0:
                self._log_train_loss(loss, step)
        self.trainer.fit_loop.epoch_loop._batches_that_stepped += len(group.batches) - 1
        return {"loss": losses[-1], "losses": torch.stack(losses), "first_batch": group.first}

    def _log_train_loss(self, loss: torch.Tensor, step: int) -> None:
        # what Lightning's logger connector writes for an on_step metric: the value, the epoch, the step
        self.log("train/loss", loss, on_step=True, on_epoch=False, logger=False)
        row = {"train/loss": float(loss), "epoch": self.current_epoch}
        for logger in self.loggers:
            logger.log_metrics(row, step=step)
            logger.save()

    def _step_schedulers(self, interval: str) -> None:
        for config in self.trainer.lr_scheduler_configs:
            if config.interval == interval:
                config.scheduler.step()  # type: ignore[call-arg]

    def on_train_epoch_start(self) -> None:
        self._train_correct.zero_()
        self._train_loss_sum.zero_()
        self._train_seen = 0

    def on_train_epoch_end(self) -> None:
        seen = torch.tensor(float(self._train_seen), device=self._train_correct.device)
        sums = torch.stack([self._train_correct, self._train_loss_sum, seen])
        sums = self.trainer.strategy.reduce(sums, reduce_op="sum")
        count = sums[2].clamp(min=1)
        self.log("train/acc", sums[0] / count, prog_bar=True)
        self.log("train/loss_epoch", sums[1] / count)
        if not self.automatic_optimization:
            self._step_schedulers("epoch")

    # Under DDP each rank's BatchNorm statistics follow its own batches. DDP copies rank 0's buffers to every
    # rank before each training forward only in Lightning's loop: in ours Lightning turns the gradient-sync flag
    # off before DDP's post-forward hook, which then never re-arms the broadcast. Copying them before they are
    # read (validation, testing, the end of fitting, where the saved weights and digests are taken) gives the
    # same values with one broadcast per validation instead of one per step: rank 0 never receives buffers, so
    # under the per-step broadcast its statistics follow its own batches too, and training-mode BatchNorm never
    # reads them.
    def on_validation_start(self) -> None:
        broadcast_buffers(self.net)

    def on_test_start(self) -> None:
        broadcast_buffers(self.net)

    def on_fit_end(self) -> None:
        broadcast_buffers(self.net)

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        self._step(batch, "val")

    def on_validation_epoch_end(self) -> None:
        self.log("val/acc", self.val_acc.compute(), prog_bar=True)
        self.log("val/loss", self.val_loss.compute(), prog_bar=True)
        self.val_acc.reset()
        self.val_loss.reset()

    def test_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        self._step(batch, "test")

    def on_test_epoch_end(self) -> None:
        self.log("test/acc", self.test_acc.compute())
        self.log("test/loss", self.test_loss.compute())

    def confusion_matrix(self) -> list[list[int]]:
        """The test confusion matrix (rows: true class, columns: predicted class), summed over ranks."""
        return self.test_confusion.compute().long().tolist()

    def configure_optimizers(self) -> Any:
        optimizer = self.optimizer_factory(params=self.parameters())
        if self.scheduler_factory is None:
            return optimizer
        if "total_steps" in inspect.signature(self.scheduler_factory).parameters:
            total = self.planned_steps()
            scheduler = self.scheduler_factory(optimizer=optimizer, total_steps=total)
            return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
        scheduler = self.scheduler_factory(optimizer=optimizer)
        config = {"scheduler": scheduler, "interval": "epoch"}
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            self._plateau_schedule = True
            config["monitor"] = "val/loss"
        return {"optimizer": optimizer, "lr_scheduler": config}
