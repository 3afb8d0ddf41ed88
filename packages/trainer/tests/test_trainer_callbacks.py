"""The NaN guard: checked at once on the CPU; recorded on the device and read back in batches elsewhere."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import torch

from trainer.callbacks import NonFiniteLossGuard
from trainer.errors import NonFiniteLossError


def _feed(guard: NonFiniteLossGuard, trainer: Any, losses: list[float]) -> int:
    """Run ``losses`` through the guard as one epoch; return the batch index at which it stopped (-1: none)."""
    guard.on_train_epoch_start(trainer, None)  # type: ignore[arg-type]
    for batch_idx, value in enumerate(losses):
        try:
            guard.on_train_batch_end(trainer, None, {"loss": torch.tensor(value)}, None, batch_idx)  # type: ignore[arg-type]
        except NonFiniteLossError:
            return batch_idx
    return -1


def test_cpu_losses_are_checked_as_they_come() -> None:
    trainer = SimpleNamespace(log_every_n_steps=4, current_epoch=0)
    assert _feed(NonFiniteLossGuard(), trainer, [1.0, float("inf"), 2.0]) == 1


def test_deferred_check_names_the_first_bad_batch() -> None:
    trainer = SimpleNamespace(log_every_n_steps=4, current_epoch=2)
    guard = NonFiniteLossGuard(defer=True)
    with pytest.raises(NonFiniteLossError, match=r"became nan at epoch 2, batch 2;"):
        guard.on_train_epoch_start(trainer, None)  # type: ignore[arg-type]
        for batch_idx, value in enumerate([1.0, 2.0, float("nan"), float("inf"), 3.0]):
            stopped_at = batch_idx
            guard.on_train_batch_end(trainer, None, torch.tensor(value), None, batch_idx)  # type: ignore[arg-type]
    assert stopped_at == 3  # read back with the log cadence, not on every batch


def test_deferred_check_runs_at_the_end_of_the_epoch() -> None:
    trainer = SimpleNamespace(log_every_n_steps=50, current_epoch=0)
    guard = NonFiniteLossGuard(defer=True)
    assert _feed(guard, trainer, [1.0, 0.5, 0.25]) == -1
    guard.on_train_epoch_end(trainer, None)  # type: ignore[arg-type]
    assert _feed(guard, trainer, [1.0, float("-inf"), 0.25]) == -1
    with pytest.raises(NonFiniteLossError, match=r"became -inf at epoch 0, batch 1;"):
        guard.on_train_epoch_end(trainer, None)  # type: ignore[arg-type]


@pytest.mark.parametrize("defer", [False, True])
def test_a_batch_group_names_its_first_bad_batch(defer: bool) -> None:
    # a BatchGroup's training step returns every step's loss and the epoch index of its first batch
    trainer = SimpleNamespace(log_every_n_steps=4, current_epoch=1)
    guard = NonFiniteLossGuard(defer=defer)
    guard.on_train_epoch_start(trainer, None)  # type: ignore[arg-type]
    clean = {"loss": torch.tensor(0.5), "losses": torch.tensor([1.0, 0.5]), "first_batch": 0}
    guard.on_train_batch_end(trainer, None, clean, None, 0)  # type: ignore[arg-type]
    bad = {
        "loss": torch.tensor(3.0),
        "losses": torch.tensor([1.0, float("inf"), float("nan"), 3.0]),
        "first_batch": 2,
    }
    with pytest.raises(NonFiniteLossError, match=r"became inf at epoch 1, batch 3;"):
        guard.on_train_batch_end(trainer, None, bad, None, 1)  # type: ignore[arg-type]
        guard.on_train_epoch_end(trainer, None)  # type: ignore[arg-type]
