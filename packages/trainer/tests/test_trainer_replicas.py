"""DDP ranks hold one model: the buffers every rank validates with, the digests each rank logs at the end of
fitting, and the validation accuracy recorded for the saved weights."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch

from trainer.replicas import weights_digest


@pytest.mark.slow
def test_ddp_ranks_validate_and_save_the_same_model(
    run_cli, fashion_subset: Path, probes: Path, saved_val_accuracy, tmp_path: Path
) -> None:
    """The module steps its own optimiser (no gradient clipping or accumulation), so DDP's own per-step buffer
    broadcast is off; BatchNorm statistics must still be rank 0's wherever they are read."""
    import trainer_probes

    out, digests = tmp_path / "model", tmp_path / "digests"
    result = run_cli(
        f"data.data_dir={fashion_subset}", f"paths.output_dir={out}", "data.val_size=2000",
        "model=mlp", "trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2", "trainer.max_epochs=2",
        "logger=none", "progress=plain",
        "+callbacks.digests._target_=trainer_probes.StateDigests", f"+callbacks.digests.out_dir={digests}",
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["world_size"] == 2 and metrics["model_selection"] == "best_val_accuracy"

    ranks = [
        [json.loads(line) for line in (digests / f"rank{r}.jsonl").read_text().splitlines()] for r in (0, 1)
    ]
    assert [record["epoch"] for record in ranks[0]] == [0, 1]
    assert ranks[0] == ranks[1]  # buffers and parameters identical on both ranks at every validation

    saved = torch.load(out / "model.pt", weights_only=True)
    buffers = {k: v for k, v in saved.items() if "running_" in k or k.endswith("num_batches_tracked")}
    assert buffers, "model=mlp has BatchNorm layers"
    validated = ranks[0][metrics["saved_epoch"] - 1]
    assert trainer_probes.state_digest(buffers) == validated["buffers"]  # model.pt holds what was validated

    # the recorded figure is model.pt's accuracy on the 2,000 validation images, recomputed from the IDX files
    recomputed = saved_val_accuracy(out, fashion_subset, val_size=2000)
    assert metrics["val_accuracy"] == pytest.approx(recomputed, abs=1e-6)

    # each rank logs the digest of its parameters and buffers at the end of fitting, before testing
    logged = dict(re.findall(r"rank (\d) of 2: weights sha256 ([0-9a-f]{64})", result.stdout + result.stderr))
    assert logged.keys() == {"0", "1"}, result.stdout + result.stderr
    assert logged["0"] == logged["1"] == metrics["weights_sha256"] == weights_digest(saved)
