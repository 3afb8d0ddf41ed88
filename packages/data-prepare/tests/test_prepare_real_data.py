"""The real Fashion-MNIST copy from the OS package (`apt-get install dataset-fashion-mnist`)."""

import json
from pathlib import Path

import pytest

SYSTEM_COPY = Path("/usr/share/datasets/fashion-mnist")

pytestmark = pytest.mark.skipif(
    not (SYSTEM_COPY / "train-images-idx3-ubyte.gz").exists(), reason="dataset-fashion-mnist is not installed"
)


def test_publishes_verified_fashion_mnist_from_os_copy(cli, tmp_path):
    out = tmp_path / "fashion"
    result = cli(f"paths.output_dir={out}")
    assert result.returncode == 0, result.stderr
    assert "published fashion_mnist (60,000 train / 10,000 test images)" in result.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["source"] == str(SYSTEM_COPY)
    assert manifest["counts"] == {"train": 60000, "test": 10000}
    for record in manifest["files"].values():
        assert "(dpkg:dataset-fashion-mnist)" in record["verified_by"]
    assert cli(f"paths.output_dir={out}").stdout.startswith("reused fashion_mnist")
