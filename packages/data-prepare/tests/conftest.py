"""Tiny datasets in the real IDX format and a runner for the ``data-prepare`` console script."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

FILES = {
    "train-images-idx3-ubyte.gz": ("train", 2051),
    "train-labels-idx1-ubyte.gz": ("train", 2049),
    "t10k-images-idx3-ubyte.gz": ("test", 2051),
    "t10k-labels-idx1-ubyte.gz": ("test", 2049),
}


def idx_bytes(magic: int, array: np.ndarray) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


@dataclass
class TinyDataset:
    directory: Path
    counts: dict[str, int]

    def digest(self, name: str) -> str:
        return hashlib.sha256((self.directory / name).read_bytes()).hexdigest()

    def checksums_override(self) -> str:
        body = ", ".join(f'{name}: "sha256:{self.digest(name)}"' for name in FILES)
        return f"dataset.checksums={{{body}}}"

    def overrides(self, *, with_source: bool = True) -> list[str]:
        """Overrides that make data-prepare accept this dataset (from its local directory, by default)."""
        return [
            *([f"source={self.directory}"] if with_source else []),
            f"dataset.counts.train={self.counts['train']}",
            f"dataset.counts.test={self.counts['test']}",
            self.checksums_override(),
        ]

    def rewrite(self, name: str, data: bytes) -> None:
        (self.directory / name).write_bytes(data)


def make_tiny_dataset(directory: Path, train: int = 40, test: int = 10, seed: int = 0) -> TinyDataset:
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    counts = {"train": train, "test": test}
    for name, (split, magic) in FILES.items():
        n = counts[split]
        array = rng.integers(0, 256, (n, 28, 28)) if magic == 2051 else np.arange(n) % 10
        (directory / name).write_bytes(gzip.compress(idx_bytes(magic, array), mtime=0))
    return TinyDataset(directory, counts)


@pytest.fixture
def tiny(tmp_path: Path) -> TinyDataset:
    return make_tiny_dataset(tmp_path / "src")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("data-prepare", path=str(Path(sys.executable).parent)) or "data-prepare"
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=120)


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def idx():
    """Builders for IDX bytes, for tests that corrupt one file."""
    return idx_bytes
