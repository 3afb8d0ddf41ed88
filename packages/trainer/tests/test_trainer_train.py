"""Library use: train on tiny generated data, the model artifact, resume, KFP outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from trainer import TrainerError, __version__, compose_config, load_model, train
from trainer.kfp_outputs import _confusion_metadata_without_kfp, confusion_metadata
from trainer.provenance import PACKAGES

TRAINER_DISTRIBUTION = PACKAGES[0]  # the distribution that installed this package

METRIC_KEYS = {
    "test_accuracy",
    "test_loss",
    "best_val_accuracy",
    "epoch_times_s",
    "confusion_matrix",
    "class_names",
    "provenance",
}


def test_train_writes_a_complete_artifact(fast_overrides: list[str], tmp_path: Path) -> None:
    cfg = compose_config([*fast_overrides, "trainer.max_epochs=3"])
    metrics = train(cfg)
    out = Path(cfg.paths.output_dir)
    assert {p.name for p in out.iterdir()} >= {"model.pt", "config.yaml", "metrics.json", "checkpoints"}
    assert (out / "checkpoints" / "last.ckpt").is_file()
    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk == json.loads(json.dumps(metrics))
    assert set(on_disk) >= METRIC_KEYS
    assert len(on_disk["epoch_times_s"]) == 3 and all(t > 0 for t in on_disk["epoch_times_s"])
    assert on_disk["best_val_accuracy"] == max(on_disk["val_accuracy_per_epoch"])
    # the patterns are easy: well beyond the 1/3 of chance
    assert on_disk["test_accuracy"] > 0.9
    matrix = on_disk["confusion_matrix"]
    assert len(matrix) == 3 and sum(map(sum, matrix)) == 150
    assert sum(matrix[i][i] for i in range(3)) / 150 == pytest.approx(on_disk["test_accuracy"], abs=1e-6)
    assert on_disk["class_names"] == ["circle", "square", "cross"]
    assert set(on_disk["provenance"]["dataset"]["sha256"]) >= {"train-images-idx3-ubyte.gz"}
    assert on_disk["provenance"]["packages"][TRAINER_DISTRIBUTION] == __version__
    assert "torch" in on_disk["provenance"]["packages"]
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_weights_load_with_weights_only(fast_overrides: list[str]) -> None:
    cfg = compose_config([*fast_overrides, "trainer.max_epochs=1"])
    metrics = train(cfg)
    out = Path(cfg.paths.output_dir)
    state = torch.load(out / "model.pt", weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    ckpt = torch.load(out / "checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["epoch"] == 0  # index of the last finished epoch
    net = load_model(out)
    images = torch.randn(4, 1, 12, 12)
    assert net(images).shape == (4, 3)
    assert metrics["test_accuracy"] >= 0


def test_resume_with_a_longer_one_cycle_schedule_is_refused(fast_overrides: list[str]) -> None:
    train(compose_config([*fast_overrides, "trainer.max_epochs=1"]))
    with pytest.raises(TrainerError, match="planned for 15 steps but this run has 30"):
        train(compose_config([*fast_overrides, "trainer.max_epochs=2"]))


def test_explicit_ckpt_path_and_no_resume(fast_overrides: list[str], tmp_path: Path) -> None:
    first_cfg = compose_config([*fast_overrides, "trainer.max_epochs=1"])
    train(first_cfg)
    ckpt = Path(first_cfg.paths.output_dir) / "checkpoints" / "last.ckpt"
    other = tmp_path / "other"
    from_ckpt = train(
        compose_config(
            [*fast_overrides, f"paths.output_dir={other}", "trainer.max_epochs=1", f"ckpt_path={ckpt}"]
        )
    )
    # the checkpoint had finished its only epoch: nothing left to train, the history comes with it
    assert from_ckpt["epochs"] == 1
    assert (
        from_ckpt["epoch_times_s"]
        == json.loads((ckpt.parent.parent / "metrics.json").read_text())["epoch_times_s"]
    )
    fresh = train(compose_config([*fast_overrides, "trainer.max_epochs=1", "resume=false"]))
    assert fresh["epochs"] == 1


def test_mlp_with_augmentation_and_tensorboard(fast_overrides: list[str]) -> None:
    cfg = compose_config(
        [
            *(o for o in fast_overrides if not o.startswith("model.")),
            "model=mlp",
            "model.net.input_size=144",
            "data.augment.enabled=true",
            "logger=tensorboard",
            "trainer.max_epochs=2",
        ]
    )
    metrics = train(cfg)
    assert metrics["epochs"] == 2
    assert list((Path(cfg.paths.output_dir) / "logs" / "tensorboard").glob("events.out.tfevents.*"))


def test_kfp_outputs(fast_overrides: list[str], tmp_path: Path) -> None:
    kfp = tmp_path / "kfp"
    cfg = compose_config(
        [
            *fast_overrides,
            "trainer.max_epochs=1",
            f"kfp.output_file={kfp}/executor_output.json",
            "kfp.metrics_uri=gs://bucket/run/metrics",
            "kfp.classification_metrics_uri=gs://bucket/run/classification_metrics",
            f"kfp.metrics_path={kfp}/metrics/data",
            f"kfp.classification_metrics_path={kfp}/cm/data",
        ]
    )
    metrics = train(cfg)
    executor = json.loads((kfp / "executor_output.json").read_text())
    [m] = executor["artifacts"]["metrics"]["artifacts"]
    assert m["uri"] == "gs://bucket/run/metrics"
    assert m["metadata"]["test_accuracy"] == pytest.approx(metrics["test_accuracy"])
    assert set(m["metadata"]) == {"test_accuracy", "test_loss", "val_accuracy", "best_val_accuracy"}
    assert m["metadata"]["val_accuracy"] == pytest.approx(metrics["val_accuracy"])
    [cm] = executor["artifacts"]["classification_metrics"]["artifacts"]
    assert cm["uri"] == "gs://bucket/run/classification_metrics"
    spec = cm["metadata"]["confusionMatrix"]
    assert [a["displayName"] for a in spec["annotationSpecs"]] == ["circle", "square", "cross"]
    assert [r["row"] for r in spec["rows"]] == metrics["confusion_matrix"]
    assert json.loads((kfp / "metrics" / "data").read_text()) == m["metadata"]
    assert json.loads((kfp / "cm" / "data").read_text()) == cm["metadata"]


def test_confusion_metadata_matches_kfp_classes() -> None:
    pytest.importorskip("kfp")
    names, matrix = ["a", "b"], [[3, 1], [0, 4]]
    assert confusion_metadata(names, matrix) == _confusion_metadata_without_kfp(names, matrix)
