"""Shared fixtures: tiny datasets written in the real IDX format, and a runner for the console script."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

TRAINER = str(Path(sys.executable).with_name("trainer"))
FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
CLASS_NAMES = ["circle", "square", "cross"]


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array in the IDX format (magic 0x0000 08 ndim, big-endian dimensions)."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def _patterns(labels: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """Noisy images whose class is learnable: a bright block at a class-specific position."""
    images = rng.integers(0, 60, size=(len(labels), size, size))
    step = size // 3
    for i, label in enumerate(labels):
        images[i, step * label : step * (label + 1), 2 : size - 2] += 180
    return images.clip(0, 255).astype(np.uint8)


def _colour(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """N x H x W x 3 images whose class also shows in the colour: the block lights its class's channel."""
    colour = np.repeat(images[..., None] // 3, 3, axis=3)
    colour[np.arange(len(labels)), :, :, labels] = images
    return colour


def write_dataset(
    root: Path,
    *,
    train: int = 600,
    test: int = 150,
    size: int = 12,
    gz: bool = True,
    manifest: bool = True,
    channels: int = 1,
) -> Path:
    """A learnable dataset directory; ``channels=3`` writes N x H x W x 3 images (IDX magic 0x0804)."""
    rng = np.random.default_rng(0)
    root.mkdir(parents=True, exist_ok=True)
    splits = {"train": train, "t10k": test}
    for split, count in splits.items():
        labels = rng.integers(0, len(CLASS_NAMES), size=count).astype(np.uint8)
        images = _patterns(labels, rng, size)
        if channels == 3:
            images = _colour(images, labels)
        for kind, data in (("images-idx3", images), ("labels-idx1", labels)):
            name = f"{split}-{kind}-ubyte"
            raw = idx_bytes(data)
            if gz:
                (root / f"{name}.gz").write_bytes(gzip.compress(raw, mtime=0))
            else:
                (root / name).write_bytes(raw)
    if manifest:
        files = {
            p.name: {"sha256": hashlib.sha256(p.read_bytes()).hexdigest(), "bytes": p.stat().st_size}
            for p in sorted(root.iterdir())
        }
        (root / "manifest.json").write_text(
            json.dumps(
                {
                    "format": "idx-dataset/v1",
                    "dataset": "tiny",
                    "num_classes": len(CLASS_NAMES),
                    "class_names": CLASS_NAMES,
                    "channels": channels,
                    "files": files,
                    "producer": {"name": "tests", "version": "0"},
                }
            )
        )
    return root


@pytest.fixture
def set_labels() -> Callable[[Path, str, np.ndarray], None]:
    """Replace one split's labels file (``train`` or ``t10k``) of a dataset directory."""

    def write(root: Path, split: str, labels: np.ndarray) -> None:
        raw = idx_bytes(labels.astype(np.uint8))
        (root / f"{split}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(raw, mtime=0))

    return write


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("tiny") / "data")


@pytest.fixture(scope="session")
def make_colour_data() -> Callable[[Path], Path]:
    """Writes the tiny dataset with N x H x W x 3 images (the class also lights one colour channel)."""
    return lambda root: write_dataset(root, channels=3)


@pytest.fixture
def make_data(tmp_path: Path) -> Callable[..., Path]:
    def make(name: str = "data", **kwargs: object) -> Path:
        return write_dataset(tmp_path / name, **kwargs)  # type: ignore[arg-type]

    return make


# Small, fast settings for unit runs on the tiny dataset.
FAST = [
    "data.batch_size=32",
    "data.eval_batch_size=64",
    "data.val_size=100",
    "model.net.channels=[8,16]",
    "model.net.hidden=16",
    "logger=none",
    "progress=none",
]


@pytest.fixture
def fast() -> list[str]:
    return list(FAST)


@pytest.fixture
def trainer_command() -> str:
    return TRAINER


@pytest.fixture
def fast_overrides(tiny_data: Path, tmp_path: Path) -> list[str]:
    return [f"data.data_dir={tiny_data}", f"paths.output_dir={tmp_path / 'model'}", *FAST]


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(
        *args: str, timeout: float = 120, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """The trainer CLI in ``tmp_path``, with ``env`` added to this process's environment."""
        env = {**{k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}, **(env or {})}
        return subprocess.run(
            [TRAINER, *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run


@pytest.fixture
def fashion_mnist() -> Path:
    if not all(
        (FASHION_MNIST / f).is_file() for f in ("train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
    ):
        pytest.skip("Fashion-MNIST not installed (Debian package dataset-fashion-mnist)")
    return FASHION_MNIST


@pytest.fixture(scope="session")
def fashion_subset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 10,000 training and 2,000 test images of the real Fashion-MNIST, as plain IDX files."""
    if not (FASHION_MNIST / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip("Fashion-MNIST not installed (Debian package dataset-fashion-mnist)")
    from trainer import load_idx_dataset

    full = load_idx_dataset(FASHION_MNIST)
    root = tmp_path_factory.mktemp("fashion") / "data"
    root.mkdir()
    for split, images, labels, count in (
        ("train", full.train_images, full.train_labels, 10_000),
        ("t10k", full.test_images, full.test_labels, 2_000),
    ):
        (root / f"{split}-images-idx3-ubyte").write_bytes(idx_bytes(images[:count]))
        (root / f"{split}-labels-idx1-ubyte").write_bytes(idx_bytes(labels[:count]))
    return root


def _validation_accuracy(out: Path, data: Path, val_size: int, split_seed: int = 12345) -> float:
    """The accuracy of ``out``'s saved model on the validation split, recomputed from the raw dataset files
    through :func:`trainer.predict` (the documented preprocessing)."""
    from trainer import load_idx_dataset, predict
    from trainer.datamodule import split_indices

    ds = load_idx_dataset(data)
    val_idx, _ = split_indices(len(ds.train_labels), val_size, split_seed)
    val_idx = val_idx.numpy()
    return float(np.mean(predict(out, ds.train_images[val_idx]) == ds.train_labels[val_idx]))


@pytest.fixture
def saved_val_accuracy() -> Callable[..., float]:
    """``(out, data, val_size, split_seed=12345) -> accuracy`` of the model saved in ``out``."""
    return _validation_accuracy


@pytest.fixture
def copy_tree() -> Callable[[Path, Path], Path]:
    def copy(src: Path, dst: Path) -> Path:
        shutil.copytree(src, dst)
        return dst

    return copy


PROBES = Path(__file__).parent / "probes"


@pytest.fixture
def probes(monkeypatch: pytest.MonkeyPatch) -> Path:
    """The probe callbacks' directory, importable in this process and in the CLI subprocesses it starts."""
    monkeypatch.syspath_prepend(str(PROBES))
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(PROBES), os.environ.get("PYTHONPATH")]))
    )
    return PROBES
