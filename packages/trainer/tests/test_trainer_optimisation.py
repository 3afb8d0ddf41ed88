"""Who steps the optimiser and the schedule: the module itself, or Lightning's loop where a feature needs it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
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


@pytest.mark.parametrize("channels_last", [True, False])
def test_channels_last_applies_on_the_cpu_and_changes_no_output(channels_last: bool) -> None:
    from trainer.models import SmallCNN
    from trainer.module import ClassifierModule

    module = ClassifierModule(SmallCNN(), optimizer=torch.optim.AdamW, channels_last=channels_last)
    module.setup("fit")
    assert module.net.features[1][0].weight.is_contiguous(memory_format=torch.channels_last) is channels_last
    reference = SmallCNN()
    reference.load_state_dict(module.net.state_dict())
    module.eval()
    reference.eval()
    x = torch.rand(4, 1, 28, 28)
    torch.testing.assert_close(module(x), reference(x), rtol=1e-4, atol=1e-5)


def test_channels_last_leaves_a_network_without_image_inputs_alone() -> None:
    from trainer.module import ClassifierModule

    module = ClassifierModule(torch.nn.Linear(4, 3), optimizer=torch.optim.AdamW, num_classes=3)
    module.setup("fit")
    assert module(torch.rand(2, 4)).shape == (2, 3)


def _can_step_directly(**trainer_args: Any) -> bool:
    from lightning.pytorch.core.optimizer import LightningOptimizer

    from trainer.direct_step import can_step_directly
    from trainer.models import SimpleDenseNet
    from trainer.module import ClassifierModule

    module = ClassifierModule(SimpleDenseNet(), optimizer=torch.optim.Adam)
    trainer = pl.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, **trainer_args)
    optimizer = LightningOptimizer(torch.optim.Adam(module.parameters()))
    return can_step_directly(trainer, module, optimizer)


class _BeforeStep(pl.Callback):
    def on_before_optimizer_step(self, *args: Any) -> None:
        pass


@pytest.mark.parametrize(
    ("trainer_args", "direct"),
    [
        ({"devices": 1}, True),
        ({"devices": 1, "precision": "bf16-mixed"}, True),
        ({"devices": 1, "callbacks": [_BeforeStep()]}, False),
        ({"devices": 2, "strategy": "ddp"}, False),
        ({"devices": 1, "precision": "64-true"}, False),
    ],
)
def test_the_module_steps_directly_only_where_nothing_listens(
    trainer_args: dict[str, Any], direct: bool
) -> None:
    assert _can_step_directly(**trainer_args) is direct


def test_direct_steps_equal_lightnings_and_listeners_still_hear_every_step(
    fast_overrides: list[str], probes: Path, tmp_path: Path
) -> None:
    # a callback listening to on_after_backward gets Lightning's backward and step calls, every step
    common = [o for o in fast_overrides if not o.startswith("paths.output_dir=")] + ["trainer.max_epochs=2"]
    path = tmp_path / "step_path.json"
    record = ["+callbacks.path._target_=trainer_probes.StepPathRecorder", f"+callbacks.path.path={path}"]
    direct = train(compose_config([*common, f"paths.output_dir={tmp_path / 'direct'}", *record]))
    assert json.loads(path.read_text()) == {"direct": True}
    counted = tmp_path / "backward_calls.txt"
    listened = train(
        compose_config(
            [
                *common,
                f"paths.output_dir={tmp_path / 'listened'}",
                "+callbacks.count._target_=trainer_probes.BackwardCounter",
                f"+callbacks.count.path={counted}",
                *record,
            ]
        )
    )
    assert int(counted.read_text()) == 2 * STEPS_PER_EPOCH
    assert json.loads(path.read_text()) == {"direct": False}
    assert direct["weights_sha256"] == listened["weights_sha256"]
    assert direct["val_accuracy"] == listened["val_accuracy"]
    for run in ("direct", "listened"):
        assert _last_checkpoint(str(tmp_path / run))["global_step"] == 2 * STEPS_PER_EPOCH
