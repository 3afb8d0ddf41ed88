"""Exact resume with augmentation, DDP ranks that agree on the batch order when no seed is given, and resume
after a preemption (a killed run, a half-written checkpoint)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import time
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


def test_a_run_killed_in_its_second_epoch_resumes_there(
    fast_overrides: list[str], probes, trainer_command: str, tmp_path: Path
) -> None:
    """A Spot VM's preemption, as hard as it gets: SIGKILL during epoch 2 of 2; the rerun trains epoch 2 only."""
    out = Path(next(o for o in fast_overrides if o.startswith("paths.output_dir=")).split("=", 1)[1])
    marker = tmp_path / "stalled"
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    proc = subprocess.Popen(
        [trainer_command, *fast_overrides, "trainer.max_epochs=2",
         "+callbacks.stall._target_=trainer_probes.StallAtEpoch", "+callbacks.stall.epoch=1",
         f"+callbacks.stall.marker={marker}"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), (
            proc.stderr.read() if proc.poll() is not None and proc.stderr else "no epoch 2"
        )
    finally:
        proc.kill()
        proc.communicate(timeout=60)
    ckpt = out / "checkpoints" / "last.ckpt"
    first = torch.load(ckpt, weights_only=True)
    assert first["epoch"] == 0 and not (out / "model.pt").exists()
    (out / "checkpoints" / ".last.ckpt.0badc0de.tmp").write_bytes(b"half a checkpoint")  # a write cut short
    resumed = train(compose_config([*fast_overrides, "trainer.max_epochs=2"]))
    assert resumed["epochs"] == 2
    assert resumed["epoch_times_s"][0] == first["callbacks"]["RunHistory"]["epoch_times_s"][0]  # not re-run
    last = torch.load(ckpt, weights_only=True)
    assert last["epoch"] == 1 and last["global_step"] == 2 * first["global_step"]
    assert not list(out.rglob("*.tmp"))


def test_an_unreadable_last_checkpoint_is_not_resumed(
    fast_overrides: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    cfg = compose_config([*fast_overrides, "trainer.max_epochs=1"])
    train(cfg)
    ckpt = Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt"
    data = ckpt.read_bytes()
    ckpt.write_bytes(data[: len(data) // 2])  # what a non-atomic copy cut short would leave
    with caplog.at_level(logging.WARNING, logger="trainer"):
        metrics = train(cfg)
    assert f"{ckpt} cannot be read" in caplog.text and "training starts afresh" in caplog.text
    assert metrics["epochs"] == 1
    assert torch.load(ckpt, weights_only=True)["epoch"] == 0  # rewritten whole
