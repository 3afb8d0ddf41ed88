"""Reading dataset directories: real IDX encoding, gz or plain, manifest handling, precise errors."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from trainer import DatasetError, load_idx_dataset
from trainer.idx import read_idx


def test_reads_gz_directory_with_manifest(tiny_data: Path) -> None:
    ds = load_idx_dataset(tiny_data)
    assert ds.train_images.shape == (600, 12, 12) and ds.train_images.dtype == np.uint8
    assert ds.test_labels.shape == (150,) and ds.test_labels.dtype == np.int64
    assert ds.class_names == ["circle", "square", "cross"]
    assert ds.manifest is not None and ds.manifest["dataset"] == "tiny"


def test_plain_files_without_manifest_use_digit_names(make_data) -> None:
    ds = load_idx_dataset(make_data(gz=False, manifest=False))
    assert ds.num_classes == 3
    assert ds.class_names == ["0", "1", "2"]
    assert ds.manifest is None


def test_missing_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"dataset directory .*nope does not exist"):
        load_idx_dataset(tmp_path / "nope")


def test_missing_files_are_listed(make_data) -> None:
    root = make_data()
    (root / "t10k-labels-idx1-ubyte.gz").unlink()
    (root / "train-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DatasetError) as err:
        load_idx_dataset(root)
    assert "missing train-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz" in str(err.value)


def test_wrong_magic(make_data) -> None:
    root = make_data(manifest=False)
    # swap images and labels: each has the other's magic number
    images, labels = root / "train-images-idx3-ubyte.gz", root / "train-labels-idx1-ubyte.gz"
    a, b = images.read_bytes(), labels.read_bytes()
    images.write_bytes(b)
    labels.write_bytes(a)
    with pytest.raises(DatasetError, match="magic number 2049, expected 2051"):
        load_idx_dataset(root)


def test_truncated_file(make_data) -> None:
    root = make_data(manifest=False)
    path = root / "t10k-images-idx3-ubyte.gz"
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[:-10]))
    with pytest.raises(DatasetError, match="truncated"):
        load_idx_dataset(root)


def test_not_gzip(make_data) -> None:
    root = make_data(manifest=False)
    (root / "train-labels-idx1-ubyte.gz").write_bytes(b"this is not gzip data")
    with pytest.raises(DatasetError, match=r"cannot read .*train-labels-idx1-ubyte.gz"):
        load_idx_dataset(root)


def test_count_mismatch(make_data, tmp_path: Path) -> None:
    root = make_data(manifest=False)
    other = make_data("other", train=500, manifest=False)
    (root / "train-labels-idx1-ubyte.gz").write_bytes((other / "train-labels-idx1-ubyte.gz").read_bytes())
    with pytest.raises(DatasetError, match="train split has 600 images and 500 labels"):
        load_idx_dataset(root)


def test_malformed_manifest(make_data) -> None:
    root = make_data()
    (root / "manifest.json").write_text("{not json")
    with pytest.raises(DatasetError, match=r"manifest\.json is not valid JSON"):
        load_idx_dataset(root)


def test_manifest_with_too_few_classes(make_data) -> None:
    root = make_data()
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["class_names"] = ["a", "b"]
    manifest["num_classes"] = 2
    (root / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DatasetError, match="label 2 found but the manifest declares 2 classes"):
        load_idx_dataset(root)


def test_read_idx_header_dims(tmp_path: Path) -> None:
    data = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "x-idx3-ubyte"
    path.write_bytes(
        b"\x00\x00\x08\x03" + b"".join(d.to_bytes(4, "big") for d in data.shape) + data.tobytes()
    )
    np.testing.assert_array_equal(read_idx(path, 2051), data)


def test_a_file_that_differs_from_the_manifest_digest_is_refused(make_data) -> None:
    root = make_data()
    path = root / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[-1] ^= 1  # one label changed: still a valid IDX file
    path.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(
        DatasetError, match=r"t10k-labels-idx1-ubyte.gz does not match manifest.json: sha256 "
    ):
        load_idx_dataset(root)


def test_labels_beyond_the_manifests_num_classes(make_data) -> None:
    root = make_data()
    manifest = json.loads((root / "manifest.json").read_text())
    del manifest["class_names"], manifest["files"]
    manifest["num_classes"] = 2
    (root / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DatasetError, match="label 2 found but the manifest declares 2 classes"):
        load_idx_dataset(root)


def test_manifest_num_classes_and_class_names_must_agree(make_data) -> None:
    root = make_data()
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["num_classes"] = 4
    (root / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DatasetError, match="num_classes is 4 but class_names lists 3 names"):
        load_idx_dataset(root)


def test_without_a_manifest_a_stray_label_is_refused(make_data, set_labels) -> None:
    root = make_data(manifest=False)
    labels = load_idx_dataset(root).train_labels.copy()
    labels[7] = 200
    set_labels(root, "train", labels)
    with pytest.raises(DatasetError) as err:
        load_idx_dataset(root)
    message = str(err.value)
    assert "no manifest declaring its classes" in message
    assert "labels run up to 200 with no example of 3-199" in message
    assert "set data.num_classes=201" in message


def test_without_a_manifest_num_classes_allows_unused_classes(make_data) -> None:
    root = make_data(manifest=False)
    ds = load_idx_dataset(root, num_classes=5)
    assert ds.class_names == ["0", "1", "2", "3", "4"]
    with pytest.raises(DatasetError, match=r"label 2 found but data\.num_classes=2"):
        load_idx_dataset(root, num_classes=2)


def test_num_classes_must_agree_with_the_manifest(make_data) -> None:
    with pytest.raises(DatasetError, match=r"data\.num_classes=4 but .*manifest\.json declares 3 classes"):
        load_idx_dataset(make_data(), num_classes=4)


def test_colour_images_keep_their_channel_axis(make_data) -> None:
    ds = load_idx_dataset(make_data(channels=3))
    assert ds.train_images.shape == (600, 12, 12, 3) and ds.test_images.shape == (150, 12, 12, 3)
    assert (ds.channels, ds.image_size) == (3, 12)
    assert ds.manifest is not None and ds.manifest["channels"] == 3


def test_a_manifest_declaring_other_channels_is_refused(make_data) -> None:
    root = make_data(channels=3)
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["channels"] = 1
    (root / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DatasetError, match="declares 1 channels but the images have 3"):
        load_idx_dataset(root)


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((5, 12, 12, 2), r"shape \[5, 12, 12, 2\], expected N x H x W or N x H x W x C with 1 or 3 channels"),
        ((5, 12, 10), "holds 12x10 images; the networks take square images"),
    ],
)
def test_image_layouts_the_networks_cannot_take_are_refused(
    make_data, shape: tuple[int, ...], message: str
) -> None:
    root = make_data(manifest=False)
    header = bytes([0, 0, 8, len(shape)]) + b"".join(d.to_bytes(4, "big") for d in shape)
    for split in ("train", "t10k"):
        body = np.zeros(shape, dtype=np.uint8).tobytes()
        (root / f"{split}-images-idx3-ubyte.gz").write_bytes(gzip.compress(header + body))
        labels = bytes([0, 0, 8, 1]) + shape[0].to_bytes(4, "big") + bytes(range(3)) + bytes(shape[0] - 3)
        (root / f"{split}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(labels))
    with pytest.raises(DatasetError, match=message):
        load_idx_dataset(root)
