"""The dataset artifact contract, pinned end to end: what data-prepare publishes, the trainer reads.

The two packages ship in separate images and each spells the IDX format out on its own; this feeds a real
data-prepare artifact (its CLI on the OS copy of Fashion-MNIST) to the trainer's reader and CLI, intact and
corrupted.
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

pytestmark = pytest.mark.slow  # real data

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


def tool(name: str) -> str:
    return shutil.which(name, path=str(Path(sys.executable).parent)) or name


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (FASHION_MNIST / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip("Fashion-MNIST not installed (Debian package dataset-fashion-mnist)")
    out = tmp_path_factory.mktemp("contract") / "fashion"
    result = subprocess.run(
        [tool("data-prepare"), "dataset=fashion_mnist", "source=auto", f"paths.output_dir={out}"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture
def corrupt_copy(artifact: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(artifact, tmp_path / "corrupt"))


def _flip_last_label(path: Path) -> None:
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[-1] = (raw[-1] + 1) % 10  # still a valid IDX file with in-range labels
    path.write_bytes(gzip.compress(bytes(raw)))


def test_file_names_agree() -> None:
    from data_prepare import IDX_FILES
    from trainer.idx import SPLIT_FILES

    trainer_names = {f"{stem}.gz" for pair in SPLIT_FILES.values() for stem in pair}
    assert trainer_names == set(IDX_FILES)


def test_trainer_reads_what_data_prepare_publishes(artifact: Path) -> None:
    from trainer import load_idx_dataset

    manifest = json.loads((artifact / "manifest.json").read_text())
    ds = load_idx_dataset(artifact)
    assert ds.manifest == manifest
    assert ds.class_names == manifest["class_names"] and ds.num_classes == manifest["num_classes"]
    assert len(ds.train_labels) == manifest["counts"]["train"] == 60_000
    assert len(ds.test_labels) == manifest["counts"]["test"] == 10_000
    assert list(ds.train_images.shape[1:]) == list(manifest["image_shape"]) == [28, 28]
    assert ds.train_images.dtype == np.uint8 and int(ds.train_labels.max()) == manifest["num_classes"] - 1
    # the same pixels as the source files: the artifact is a verified copy, not a re-encoding
    with gzip.open(FASHION_MNIST / "t10k-images-idx3-ubyte.gz") as f:
        assert ds.test_images.tobytes() == f.read()[16:]


def test_corrupt_artifact_is_refused_by_the_reader(corrupt_copy: Path) -> None:
    from trainer import DatasetError, load_idx_dataset

    _flip_last_label(corrupt_copy / "train-labels-idx1-ubyte.gz")
    with pytest.raises(DatasetError, match=r"train-labels-idx1-ubyte\.gz does not match manifest\.json"):
        load_idx_dataset(corrupt_copy)


def test_truncated_file_without_its_manifest_is_refused(corrupt_copy: Path) -> None:
    from trainer import DatasetError, load_idx_dataset

    (corrupt_copy / "manifest.json").unlink()
    path = corrupt_copy / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-1000])
    with pytest.raises(DatasetError, match=r"cannot read .*t10k-images-idx3-ubyte\.gz"):
        load_idx_dataset(corrupt_copy)


def test_trainer_cli_records_the_artifacts_digests(artifact: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    result = subprocess.run(
        [
            tool("trainer"),
            f"data.data_dir={artifact}",
            f"paths.output_dir={out}",
            "trainer.max_epochs=1",
            "+trainer.limit_train_batches=2",
            "+trainer.limit_val_batches=1",
            "+trainer.limit_test_batches=1",
            "logger=none",
            "progress=none",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((artifact / "manifest.json").read_text())
    metrics = json.loads((out / "metrics.json").read_text())
    dataset = metrics["provenance"]["dataset"]
    assert dataset["sha256"] == {name: info["sha256"] for name, info in manifest["files"].items()}
    assert dataset["producer"] == manifest["producer"] and dataset["dataset"] == manifest["dataset"]
    assert metrics["class_names"] == manifest["class_names"]


def test_trainer_cli_refuses_a_corrupt_artifact(corrupt_copy: Path, tmp_path: Path) -> None:
    _flip_last_label(corrupt_copy / "t10k-labels-idx1-ubyte.gz")
    out = tmp_path / "model"
    result = subprocess.run(
        [tool("trainer"), f"data.data_dir={corrupt_copy}", f"paths.output_dir={out}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"trainer: error: {corrupt_copy / 't10k-labels-idx1-ubyte.gz'} does not match")
    assert not out.exists()
