"""Who steps the optimiser and the schedule: the module itself, or Lightning's loop where a feature needs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from trainer import compose_config, train

STEPS_PER_EPOCH = 15  # tiny_data: 480 training images, batch 32


def _last_checkpoint(output_dir: str) -> dict[str, Any]:
    return torch.load(Path(output_dir) / "checkpoints" / "last.ckpt", weights_only=True)


def _loop_that_stepped(ckpt: dict[str, Any]) -> str:
    fit = ckpt["loops"]["fit_loop"]
    manual = fit["epoch_loop.manual_optimization.optim_step_progress"]["total"]["completed"]
    automatic = fit["epoch_loop.automatic_optimization.optim_progress"]["optimizer"]["step"]["total"]
    assert bool(manual) != bool(automatic["completed"])
    return "module" if manual else "lightning"


def _scheduler(*overrides: str) -> list[str]:
    spec = ",".join(overrides)
    return ["model.scheduler=null", f"model.scheduler={{_partial_:true,{spec}}}"]


def test_module_steps_the_one_cycle_schedule_every_batch(fast_overrides: list[str]) -> None:
    cfg = compose_config([*fast_overrides, "trainer.max_epochs=2"])
    metrics = train(cfg)
    ckpt = _last_checkpoint(cfg.paths.output_dir)
    assert _loop_that_stepped(ckpt) == "module"
    assert ckpt["global_step"] == 2 * STEPS_PER_EPOCH
    [schedule] = ckpt["lr_schedulers"]
    assert schedule["last_epoch"] == schedule["total_steps"] == 2 * STEPS_PER_EPOCH
    assert metrics["test_accuracy"] > 0.9


@pytest.mark.parametrize(
    ("override", "steps"),
    [
        ("trainer.gradient_clip_val=0.5", 2 * STEPS_PER_EPOCH),
        ("trainer.accumulate_grad_batches=3", 2 * STEPS_PER_EPOCH // 3),
    ],
)
def test_clipping_and_accumulation_get_lightnings_loop(
    fast_overrides: list[str], override: str, steps: int
) -> None:
    cfg = compose_config([*fast_overrides, "trainer.max_epochs=2", override])
    metrics = train(cfg)
    ckpt = _last_checkpoint(cfg.paths.output_dir)
    assert _loop_that_stepped(ckpt) == "lightning"
    assert ckpt["global_step"] == steps
    [schedule] = ckpt["lr_schedulers"]
    assert schedule["last_epoch"] == schedule["total_steps"] == steps
    assert metrics["test_accuracy"] > 0.6


def test_epoch_schedule_steps_once_per_epoch(fast_overrides: list[str]) -> None:
    overrides = _scheduler("_target_:torch.optim.lr_scheduler.StepLR", "step_size:1", "gamma:0.5")
    cfg = compose_config([*fast_overrides, "trainer.max_epochs=2", *overrides])
    train(cfg)
    ckpt = _last_checkpoint(cfg.paths.output_dir)
    assert _loop_that_stepped(ckpt) == "module"
    assert ckpt["lr_schedulers"][0]["last_epoch"] == 2
    assert ckpt["optimizer_states"][0]["param_groups"][0]["lr"] == pytest.approx(0.004 * 0.25)


def test_reduce_on_plateau_follows_validation_loss(fast_overrides: list[str]) -> None:
    overrides = _scheduler("_target_:torch.optim.lr_scheduler.ReduceLROnPlateau", "patience:0")
    cfg = compose_config([*fast_overrides, "trainer.max_epochs=2", *overrides])
    train(cfg)
    ckpt = _last_checkpoint(cfg.paths.output_dir)
    assert _loop_that_stepped(ckpt) == "lightning"
    [schedule] = ckpt["lr_schedulers"]
    # stepped with each epoch's validation loss, after last.ckpt is written: the file holds the first step
    assert schedule["last_epoch"] == 1
    assert 0 < schedule["best"] < float("inf")
