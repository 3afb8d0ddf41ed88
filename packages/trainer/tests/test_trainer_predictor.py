"""load_predictor: the artifact loaded once, predict's classes, softmax probabilities, input checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from trainer import Predictor, TrainerError, compose_config, load_idx_dataset, load_predictor, predict, train


def test_predictor_is_predicts_inference_path(fast_overrides: list[str], tiny_data: Path) -> None:
    cfg = compose_config([*fast_overrides, "trainer.max_epochs=1"])
    metrics = train(cfg)
    out = Path(cfg.paths.output_dir)
    images = load_idx_dataset(tiny_data).test_images
    predictor = load_predictor(out)
    assert isinstance(predictor, Predictor)
    assert (predictor.image_size, predictor.channels, predictor.device) == (12, 1, "cpu")
    assert predictor.class_names == metrics["class_names"] == ["circle", "square", "cross"]
    assert (predictor.mean, predictor.std) == (
        metrics["preprocessing"]["mean"],
        metrics["preprocessing"]["std"],
    )

    result = predictor.classify(images)
    assert result.classes.dtype == np.int64 and result.probabilities.dtype == np.float32
    assert result.probabilities.shape == (len(images), 3)
    np.testing.assert_allclose(result.probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert (result.probabilities.argmax(axis=1) == result.classes).all()
    np.testing.assert_array_equal(result.classes, predict(out, images))
    # batches of any size give the same classes; N x 1 x H x W and tensors are accepted too
    np.testing.assert_array_equal(predictor.classify(images, batch_size=7).classes, result.classes)
    np.testing.assert_array_equal(
        predictor.classify(torch.from_numpy(images[:, None])).classes, result.classes
    )
    np.testing.assert_allclose(predictor.probabilities(images[:5]), result.probabilities[:5], atol=1e-6)
    empty = predictor.classify(np.zeros((0, 12, 12), dtype=np.uint8))
    assert empty.classes.shape == (0,) and empty.probabilities.shape == (0, 3)

    with pytest.raises(TrainerError, match="the model takes 12x12 images, got 28x28"):
        predictor.classify(np.zeros((2, 28, 28), dtype=np.uint8))
    with pytest.raises(TrainerError, match="the model takes 1-channel images, got 3 channels"):
        predictor.classify(np.zeros((2, 3, 12, 12), dtype=np.uint8))
    with pytest.raises(TrainerError, match="N x H x W or N x C x H x W"):
        predictor.classify(np.zeros((12, 12), dtype=np.uint8))
    with pytest.raises(TrainerError, match="raw uint8 pixels"):
        predictor.classify(images.astype(np.float32))
    with pytest.raises(TrainerError, match="the model takes 12x12 images, got 10x10"):
        predict(out, np.zeros((1, 10, 10), dtype=np.uint8))
