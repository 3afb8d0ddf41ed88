"""`pipeline-sdk run params.dataset=image_folder`: the user's own images through the real data-prepare
component YAML and the real trainer, locally."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

CLASSES = ["blue", "green", "red"]


@pytest.fixture
def colour_folder(tmp_path: Path) -> Path:
    """An ImageFolder tree of PNG and JPEG images of mixed sizes whose class is their dominant colour."""
    from PIL import Image

    rng = np.random.default_rng(0)
    root = tmp_path / "photos"
    for split, per_class in (("train", 60), ("test", 20)):
        for label, name in enumerate(CLASSES):
            folder = root / split / name
            folder.mkdir(parents=True)
            channel = 2 - label  # blue, green, red in RGB order
            for i in range(per_class):
                height, width = rng.integers(20, 40, size=2)
                pixels = rng.integers(0, 80, (height, width, 3)).astype(np.uint8)
                pixels[..., channel] += 150
                suffix = ".png" if i % 2 else ".jpg"
                Image.fromarray(pixels, mode="RGB").save(folder / f"{i:03d}{suffix}")
    return root


def test_your_own_images_run_end_to_end_through_the_pipeline(
    sdk: Callable, tiny_train: Path, runs: Path, colour_folder: Path
) -> None:
    result = sdk(
        "run",
        f"steps.train.component={tiny_train}",
        f"local.root={runs}",
        "params.dataset=image_folder",
        f"params.source={colour_folder}",
        "params.image_size=16",
        "params.channels=3",
        "params.epochs=3",
        "params.batch_size=30",
        "--run-name",
        "photos",
    )
    assert result.returncode == 0, result.stderr
    record = result.run_json()
    assert record["state"] == "SUCCEEDED"
    dataset = Path(record["tasks"]["data-prepare"]["outputs"]["dataset"]["uri"])
    manifest = json.loads((dataset / "manifest.json").read_text())
    assert manifest["class_names"] == CLASSES
    assert (manifest["image_shape"], manifest["channels"]) == ([16, 16], 3)
    assert manifest["counts"] == {"train": 180, "test": 60}
    model = Path(record["tasks"]["train"]["outputs"]["model"]["uri"])
    saved = (model / "config.yaml").read_text()
    assert "channels: 3" in saved and "image_size: 16" in saved
    trained = json.loads((model / "metrics.json").read_text())
    assert trained["class_names"] == CLASSES
    assert trained["test_accuracy"] > 0.9, "the dominant colour is learnable"


def test_image_folder_without_a_source_is_one_line(sdk: Callable, runs: Path) -> None:
    result = sdk("run", f"local.root={runs}", "params.dataset=image_folder", "--run-name", "nosource")
    assert result.returncode != 0
    tail = [line for line in result.stderr.splitlines() if "data-prepare: error:" in line]
    assert tail and "source" in tail[0], result.stderr
