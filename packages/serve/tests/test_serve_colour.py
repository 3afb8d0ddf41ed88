"""A colour model (trained on N x H x W x 3 images, as data-prepare's image_folder publishes for RGB) serves
H x W x 3 lists and RGB PNGs as trainer.predict classifies them, and refuses grey lists."""

from __future__ import annotations

import base64
import gzip
import io
from pathlib import Path

import numpy as np
import pytest

from trainer import compose_config, predict, train

SIZE = 16


def _idx(magic: int, array: np.ndarray) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return gzip.compress(header + array.tobytes(), mtime=0)


def _colour_images(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    images = rng.integers(0, 80, (len(labels), SIZE, SIZE, 3)).astype(np.uint8)
    images[np.arange(len(labels)), :, :, labels] += 150  # the class is the dominant channel
    return images


@pytest.fixture(scope="module")
def colour_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    rng = np.random.default_rng(0)
    data = tmp_path_factory.mktemp("colour") / "data"
    data.mkdir()
    test_images = None
    for prefix, count in (("train", 300), ("t10k", 60)):
        labels = (np.arange(count) % 3).astype(np.uint8)
        images = _colour_images(labels, rng)
        (data / f"{prefix}-images-idx3-ubyte.gz").write_bytes(_idx(0x804, images))
        (data / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(_idx(0x801, labels))
        test_images = images
    out = data.parent / "model"
    overrides = [f"data.data_dir={data}", f"paths.output_dir={out}", "data.val_size=30", "data.batch_size=30"]
    train(
        compose_config([*overrides, "trainer.max_epochs=2", "logger=none", "callbacks=none", "progress=none"])
    )
    assert test_images is not None
    return out, test_images


def test_a_colour_model_serves_lists_and_png_as_trainer_predict(colour_model, launch_serve) -> None:
    from PIL import Image

    model_dir, images = colour_model
    expected = predict(model_dir, images.transpose(0, 3, 1, 2)).tolist()
    server = launch_serve([f"model_uri={model_dir}", "port=0", "device=cpu"])
    reply = server.predict(images.tolist())
    assert reply.status == 200, reply.body
    assert [p["class"] for p in reply.json()["predictions"]] == expected

    def png(image: np.ndarray) -> dict[str, str]:
        buffer = io.BytesIO()
        Image.fromarray(image, mode="RGB").save(buffer, format="PNG")
        return {"b64": base64.b64encode(buffer.getvalue()).decode()}

    reply = server.predict([png(image) for image in images[:10]])
    assert [p["class"] for p in reply.json()["predictions"]] == expected[:10]

    reply = server.predict([images[0, :, :, 0].tolist()])
    assert reply.status == 400
    assert f"takes {SIZE}x{SIZE}x3 pixel arrays" in reply.json()["error"]
