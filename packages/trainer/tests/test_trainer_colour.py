"""Colour datasets (N x H x W x 3, as data-prepare's image_folder publishes): every network trains on them,
and the saved model predicts colour images with the training preprocessing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trainer import DatasetError, compose_config, load_idx_dataset, load_predictor, predict, train


@pytest.fixture(scope="module")
def colour_data(tmp_path_factory: pytest.TempPathFactory, make_colour_data) -> Path:
    return make_colour_data(tmp_path_factory.mktemp("colour") / "data")


@pytest.mark.parametrize("model", ["cnn", "mlp", "vgg"])
def test_each_network_takes_its_input_shape_from_the_data(
    model: str, colour_data: Path, fast: list[str], tmp_path: Path
) -> None:
    net = {"cnn": ["model.net.channels=[8,16]", "model.net.hidden=16"], "vgg": ["model.net.channels=[8]"]}
    overrides = [o for o in fast if not o.startswith("model.net.")] + net.get(model, [])
    cfg = compose_config(
        [
            f"model={model}",
            f"data.data_dir={colour_data}",
            f"paths.output_dir={tmp_path}",
            *overrides,
            "trainer.max_epochs=2",
        ]
    )
    metrics = train(cfg)
    saved = (tmp_path / "config.yaml").read_text()
    assert "channels: 3" in saved and "image_size: 12" in saved
    if model == "mlp":
        assert "input_size: 432" in saved  # 3 x 12 x 12, filled in from the data
    predictor = load_predictor(tmp_path)
    assert (predictor.channels, predictor.image_size) == (3, 12)
    dataset = load_idx_dataset(colour_data)
    # the networks take N x C x H x W; the dataset files hold N x H x W x C
    images = dataset.test_images.transpose(0, 3, 1, 2)
    classes = predict(tmp_path, images)
    assert float((classes == dataset.test_labels).mean()) == pytest.approx(metrics["test_accuracy"], abs=1e-6)
    assert metrics["test_accuracy"] > 0.9, "the colour and position of the block are learnable"


def test_channels_set_against_the_data_are_refused(
    colour_data: Path, fast: list[str], tmp_path: Path
) -> None:
    cfg = compose_config(
        [f"data.data_dir={colour_data}", f"paths.output_dir={tmp_path}", "data.channels=1", *fast]
    )
    with pytest.raises(DatasetError, match=r"data\.channels=1 but .* has 3-channel images"):
        train(cfg)
    assert not (tmp_path / "model.pt").exists()


def test_a_grey_network_refuses_colour_images_at_prediction(
    fast_overrides: list[str], tmp_path: Path
) -> None:
    cfg = compose_config([*fast_overrides, "trainer.max_epochs=1"])
    train(cfg)
    from trainer import TrainerError

    with pytest.raises(TrainerError, match="the model takes 1-channel images, got 3 channels"):
        predict(cfg.paths.output_dir, np.zeros((1, 3, 12, 12), dtype=np.uint8))
