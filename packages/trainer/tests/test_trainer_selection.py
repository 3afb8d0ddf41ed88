"""Which model is saved and which figures describe it: best-by-validation weights, the sweeper's value, predict."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from trainer import TrainerError, compose_config, load_idx_dataset, predict, train


def test_saved_model_is_the_best_validated_epoch(
    fast_overrides: list[str], tiny_data: Path, probes, saved_val_accuracy
) -> None:
    cfg = compose_config(
        [
            *fast_overrides,
            "trainer.max_epochs=3",
            "+callbacks.spoil._target_=trainer_probes.SpoilLastEpoch",
        ]
    )
    metrics = train(cfg)
    per_epoch = metrics["val_accuracy_per_epoch"]
    assert len(per_epoch) == 3 and per_epoch[2] < 0.5 < max(per_epoch[:2])  # the last epoch was spoilt
    assert metrics["model_selection"] == "best_val_accuracy"
    assert metrics["saved_epoch"] == int(np.argmax(per_epoch)) + 1 < 3
    assert metrics["val_accuracy"] == metrics["best_val_accuracy"] == max(per_epoch)
    out = Path(cfg.paths.output_dir)
    assert saved_val_accuracy(out, tiny_data, val_size=100) == pytest.approx(
        metrics["val_accuracy"], abs=1e-6
    )
    # the test figures are the saved model's too
    assert metrics["test_accuracy"] > 0.9
    assert json.loads((out / "metrics.json").read_text())["saved_epoch"] == metrics["saved_epoch"]


def test_resumed_run_keeps_the_best_weights(fast_overrides: list[str], probes) -> None:
    overrides = [
        *fast_overrides,
        "model.scheduler=null",
        "+callbacks.spoil._target_=trainer_probes.SpoilLastEpoch",
    ]
    train(compose_config([*overrides, "trainer.max_epochs=2"]))
    # the resumed run spoils its own last epoch (3); the best is still one of the first two
    metrics = train(compose_config([*overrides, "trainer.max_epochs=3"]))
    assert metrics["saved_epoch"] < 3 and metrics["val_accuracy"] == max(metrics["val_accuracy_per_epoch"])
    assert metrics["test_accuracy"] > 0.9


def test_without_validation_the_last_epoch_is_saved(fast_overrides: list[str]) -> None:
    metrics = train(compose_config([*fast_overrides, "trainer.max_epochs=2", "data.val_size=0"]))
    assert metrics["model_selection"] == "last_epoch" and metrics["saved_epoch"] == 2
    assert metrics["val_accuracy"] is None and metrics["val_accuracy_per_epoch"] == []


def test_sweepers_receive_the_validation_accuracy(
    run_cli, fast, make_data, set_labels, probes, tmp_path: Path
) -> None:
    data = make_data(manifest=False)
    # test labels scrambled: test accuracy falls to chance while validation accuracy stays high
    test_labels = load_idx_dataset(data).test_labels
    set_labels(data, "t10k", np.random.default_rng(1).permutation(test_labels))
    returned = tmp_path / "returned.jsonl"
    result = run_cli(
        "-m",
        f"data.data_dir={data}",
        f"paths.output_dir={tmp_path / 'sweep'}",
        "trainer.max_epochs=1",
        "seed=1",
        *fast,
        "+hydra.callbacks.record._target_=trainer_probes.ReturnRecorder",
        f"+hydra.callbacks.record.path={returned}",
    )
    assert result.returncode == 0, result.stderr
    [value] = [json.loads(line) for line in returned.read_text().splitlines()]
    metrics = json.loads((tmp_path / "sweep" / "0" / "metrics.json").read_text())
    assert value == metrics["val_accuracy"] > 0.9 > 0.6 > metrics["test_accuracy"]


def test_predict_on_raw_pixels_reproduces_the_test_accuracy(
    fast_overrides: list[str], tiny_data: Path
) -> None:
    cfg = compose_config([*fast_overrides, "trainer.max_epochs=2"])
    metrics = train(cfg)
    ds = load_idx_dataset(tiny_data)
    predicted = predict(cfg.paths.output_dir, ds.test_images)
    assert predicted.dtype == np.int64 and predicted.shape == ds.test_labels.shape
    assert float(np.mean(predicted == ds.test_labels)) == pytest.approx(metrics["test_accuracy"], abs=1e-6)
    assert metrics["preprocessing"]["pixel_scale"] == 255
    with pytest.raises(TrainerError, match="raw uint8 pixels"):
        predict(cfg.paths.output_dir, ds.test_images.astype(np.float32))
