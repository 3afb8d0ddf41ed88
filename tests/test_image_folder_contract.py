"""Your own images, end to end: an ImageFolder tree of real Fashion-MNIST images (JPEG grey, PNG RGB) through
``data-prepare dataset=image_folder`` and the trainer, against the IDX path on the same images.

Each image is written from the OS copy at its own 28 x 28, so the artifact holds the files' pixels (JPEG's
loss included) and the only difference from the IDX path is the encoding: the trained model's test accuracy
must land within a point of the IDX path's, and the saved model must predict the artifact's images as its
recorded test accuracy says.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # real data, two trainings per case

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
COUNTS = {"train": 20000, "test": 5000}
CLASS_DIRS = [
    "0-tshirt",
    "1-trouser",
    "2-pullover",
    "3-dress",
    "4-coat",
    "5-sandal",
    "6-shirt",
    "7-sneaker",
    "8-bag",
    "9-boot",
]
TRAIN = ["trainer.max_epochs=2", "logger=none", "progress=none", "trainer.accelerator=cpu", "seed=7"]


def tool(name: str) -> str:
    return shutil.which(name, path=str(Path(sys.executable).parent)) or name


def _idx(data: bytes) -> np.ndarray:
    raw = gzip.decompress(data)
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _idx_bytes(magic: int, array: np.ndarray) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return gzip.compress(header + array.tobytes(), compresslevel=1)


@pytest.fixture(scope="module")
def source_images() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The first images of each split of the OS copy, with their labels."""
    if not (FASHION_MNIST / FILES["train"][0]).is_file():
        pytest.skip("Fashion-MNIST not installed (Debian package dataset-fashion-mnist)")
    return {
        split: (
            _idx((FASHION_MNIST / images).read_bytes())[: COUNTS[split]],
            _idx((FASHION_MNIST / labels).read_bytes())[: COUNTS[split]].astype(np.int64),
        )
        for split, (images, labels) in FILES.items()
    }


def _write_folder(root: Path, images: dict[str, tuple[np.ndarray, np.ndarray]], form: str) -> None:
    from PIL import Image

    for split, (pixels, labels) in images.items():
        for name in CLASS_DIRS:
            (root / split / name).mkdir(parents=True)
        for i, (image, label) in enumerate(zip(pixels, labels, strict=True)):
            picture = Image.fromarray(image, mode="L")
            where = root / split / CLASS_DIRS[label] / f"{i:05d}"
            if form == "jpeg":
                picture.save(where.with_suffix(".jpg"), quality=95)
            else:
                picture.convert("RGB").save(where.with_suffix(".png"), compress_level=1)


def _write_idx(root: Path, images: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    root.mkdir(parents=True)
    for split, (pixels, labels) in images.items():
        names = FILES[split]
        (root / names[0]).write_bytes(_idx_bytes(0x803, pixels))
        (root / names[1]).write_bytes(_idx_bytes(0x801, labels.astype(np.uint8)))


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(args), capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.mark.parametrize(("form", "channels"), [("jpeg", 1), ("png", 3)])
def test_a_folder_of_images_trains_as_the_idx_files_of_the_same_images(
    form: str, channels: int, source_images: dict[str, tuple[np.ndarray, np.ndarray]], tmp_path: Path
) -> None:
    folder, artifact, idx_dir = tmp_path / "folder", tmp_path / "artifact", tmp_path / "idx"
    _write_folder(folder, source_images, form)
    _write_idx(idx_dir, source_images)
    _run(
        tool("data-prepare"),
        "dataset=image_folder",
        f"source={folder}",
        f"dataset.channels={channels}",
        f"paths.output_dir={artifact}",
    )
    manifest = json.loads((artifact / "manifest.json").read_text())
    assert manifest["class_names"] == CLASS_DIRS and manifest["channels"] == channels
    assert manifest["counts"] == COUNTS and manifest["image_shape"] == [28, 28]

    published = _idx((artifact / FILES["test"][0]).read_bytes())
    pixels = source_images["test"][0]
    if form == "png":  # lossless: the grey pixels in every channel, in class-folder order
        order = np.argsort(source_images["test"][1], kind="stable")
        assert published.shape == (COUNTS["test"], 28, 28, 3)
        np.testing.assert_array_equal(published[..., 0], pixels[order])
        np.testing.assert_array_equal(published[..., 2], pixels[order])
    else:
        assert published.shape == (COUNTS["test"], 28, 28)
        assert np.abs(published.astype(int).mean() - pixels.astype(int).mean()) < 1.0

    accuracy = {}
    for name, data in (("folder", artifact), ("idx", idx_dir)):
        out = tmp_path / f"model-{name}"
        _run(tool("trainer"), f"data.data_dir={data}", f"paths.output_dir={out}", *TRAIN)
        accuracy[name] = json.loads((out / "metrics.json").read_text())["test_accuracy"]
    assert abs(accuracy["folder"] - accuracy["idx"]) <= 0.01, accuracy

    from trainer import predict

    labels = _idx((artifact / FILES["test"][1]).read_bytes())
    batch = published if channels == 1 else published.transpose(0, 3, 1, 2)
    classes = predict(tmp_path / "model-folder", batch)
    assert float((classes == labels).mean()) == pytest.approx(accuracy["folder"], abs=1e-6)
