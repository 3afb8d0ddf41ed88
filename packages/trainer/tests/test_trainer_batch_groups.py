"""Several training batches per Lightning iteration (``data.batches_per_iteration``): the same run, fewer hooks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from trainer import compose_config, train
from trainer.batches import BatchGroup, TensorBatches

STEPS_PER_EPOCH = 15  # tiny_data: 480 training images, batch 32


def test_groups_hold_the_same_batches_in_the_same_order() -> None:
    x, y = torch.arange(100, dtype=torch.float32).view(100, 1, 1, 1), torch.arange(100)

    def batches(group: int) -> TensorBatches:
        return TensorBatches(x, y, 8, shuffle=True, drop_last=True, seed=5, group=group)

    plain = list(batches(1))
    groups = list(batches(5))
    assert [len(g.batches) for g in groups] == [5, 5, 2] and [g.first for g in groups] == [0, 5, 10]
    assert len(batches(5)) == 3 and batches(5).batches_per_epoch == 12 == len(plain)
    flat = [batch for group in groups for batch in group.batches]
    assert all(torch.equal(a[1], b[1]) and torch.equal(a[0], b[0]) for a, b in zip(plain, flat, strict=True))
    assert all(isinstance(g, BatchGroup) for g in groups)


def _run(overrides: list[str], *extra: str) -> tuple[dict[str, Any], Path]:
    cfg = compose_config([*overrides, *extra])
    metrics = train(cfg)
    return metrics, Path(cfg.paths.output_dir)


def _checkpoint(output_dir: Path) -> dict[str, Any]:
    return torch.load(output_dir / "checkpoints" / "last.ckpt", weights_only=True)


def _logged_steps(ckpt: dict[str, Any]) -> int:
    """Lightning's logged-step counter (the x axis of every logged row)."""
    return ckpt["loops"]["fit_loop"]["epoch_loop.state_dict"]["_batches_that_stepped"]


def _csv_rows(output_dir: Path) -> str:
    [csv] = output_dir.rglob("metrics.csv")
    return csv.read_text()


def test_grouped_run_equals_one_batch_per_iteration(fast_overrides: list[str], tmp_path: Path) -> None:
    # log every 5 steps: rows fall inside groups of 4; augmentation draws per batch; OneCycle steps per batch
    common = [
        *(o for o in fast_overrides if not o.startswith(("paths.output_dir=", "logger="))),
        "logger=csv",
        "trainer.max_epochs=2",
        "trainer.log_every_n_steps=5",
        "data.augment.enabled=true",
    ]
    one, one_dir = _run(common, "data.batches_per_iteration=1", f"paths.output_dir={tmp_path / 'one'}")
    grouped, grouped_dir = _run(
        common, "data.batches_per_iteration=4", f"paths.output_dir={tmp_path / 'four'}"
    )
    for key in ("val_accuracy", "test_accuracy", "test_loss", "weights_sha256"):
        assert one[key] == grouped[key], key
    assert _csv_rows(one_dir) == _csv_rows(grouped_dir)
    assert "train/loss" in _csv_rows(one_dir).splitlines()[0]
    ckpts = [_checkpoint(d) for d in (one_dir, grouped_dir)]
    assert ckpts[0]["global_step"] == ckpts[1]["global_step"] == 2 * STEPS_PER_EPOCH
    [schedule] = ckpts[1]["lr_schedulers"]
    assert schedule["last_epoch"] == schedule["total_steps"] == 2 * STEPS_PER_EPOCH
    assert _logged_steps(ckpts[0]) == _logged_steps(ckpts[1]) == 2 * STEPS_PER_EPOCH


@pytest.mark.parametrize(
    ("override", "steps", "logged_steps"),
    [
        ("++trainer.limit_train_batches=5", 2 * 5, 2 * 5),  # an int counts batches: one per iteration
        ("++trainer.max_steps=7", 7, 7),
        # last.ckpt is written at the last validation, batch 12 of epoch 2 (every 4 batches, not 4 groups),
        # before Lightning counts that batch's logged step
        ("++trainer.val_check_interval=4", STEPS_PER_EPOCH + 12, STEPS_PER_EPOCH + 11),
    ],
)
def test_options_that_count_batches_get_one_batch_per_iteration(
    fast_overrides: list[str], override: str, steps: int, logged_steps: int
) -> None:
    _, output_dir = _run(fast_overrides, "trainer.max_epochs=2", "data.batches_per_iteration=4", override)
    ckpt = _checkpoint(output_dir)
    assert ckpt["global_step"] == steps
    assert _logged_steps(ckpt) == logged_steps
