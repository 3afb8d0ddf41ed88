"""Exact resume with augmentation, and DDP ranks that agree on the batch order when no seed is given."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from trainer import compose_config, train


def _weights(path: Path) -> dict[str, torch.Tensor]:
    state = torch.load(path, weights_only=True)
    return state.get("state_dict", state)


def test_resumed_augmented_run_equals_an_uninterrupted_one(fast_overrides: list[str], tmp_path: Path) -> None:
    overrides = [
        *(o for o in fast_overrides if not o.startswith("paths.output_dir=")),
        "data.augment.enabled=true",
        "data.augment.max_shift=2",
        "data.augment.hflip=true",
        "model.scheduler=null",
    ]
    whole, split = tmp_path / "whole", tmp_path / "split"
    train(compose_config([*overrides, f"paths.output_dir={whole}", "trainer.max_epochs=3"]))
    train(compose_config([*overrides, f"paths.output_dir={split}", "trainer.max_epochs=2"]))
    resumed = train(compose_config([*overrides, f"paths.output_dir={split}", "trainer.max_epochs=3"]))
    assert resumed["epochs"] == 3
    for name in ("model.pt", "checkpoints/last.ckpt"):
        a, b = _weights(whole / name), _weights(split / name)
        assert a.keys() == b.keys()
        assert all(torch.equal(a[k], b[k]) for k in a), name
    whole_metrics = json.loads((whole / "metrics.json").read_text())
    assert resumed["val_accuracy_per_epoch"] == whole_metrics["val_accuracy_per_epoch"]


@pytest.mark.slow
def test_ddp_ranks_without_a_seed_see_disjoint_covering_shards(
    run_cli, fast, tiny_data: Path, probes, tmp_path: Path
) -> None:
    shards = tmp_path / "shards"
    result = run_cli(
        f"data.data_dir={tiny_data}",
        f"paths.output_dir={tmp_path / 'model'}",
        "trainer=ddp",
        "trainer.accelerator=cpu",
        "trainer.devices=2",
        "trainer.max_epochs=2",
        "seed=null",
        *fast,
        "+callbacks.shards._target_=trainer_probes.ShardRecorder",
        f"+callbacks.shards.out_dir={shards}",
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    fit_images = 600 - 100  # tiny_data's training images less data.val_size
    orders = []
    for epoch in (0, 1):
        rank0, rank1 = (json.loads((shards / f"rank{r}-epoch{epoch}.json").read_text()) for r in (0, 1))
        assert len(rank0) == len(rank1) == fit_images // 2
        assert not set(rank0) & set(rank1)
        assert set(rank0) | set(rank1) == set(range(fit_images))
        orders.append(rank0)
    assert orders[0] != orders[1]  # still a new order every epoch
