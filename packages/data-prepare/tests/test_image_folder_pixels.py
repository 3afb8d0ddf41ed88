"""dataset=image_folder through the library: the artifact's pixels, labels, class order and manifest."""

from __future__ import annotations

import hashlib
import json
import random

import numpy as np
import pytest

from data_prepare import ImageFolderSpec, PrepareError, prepare_image_folder

GREY_IDX, RGB_IDX, LABELS_IDX = 0x00000803, 0x00000804, 0x00000801


def publish(tree, out, source=None, **settings):
    spec = ImageFolderSpec(**{"workers": 2, "chunk_size": 150, **settings})
    return prepare_image_folder(spec, out, source=str(source or tree.root))


def test_same_size_grey_pngs_equal_the_idx_pixels(grey_tree, artifact, tmp_path):
    result = publish(grey_tree, tmp_path / "ds")
    assert not result.reused
    got = artifact(tmp_path / "ds")
    assert got.magic == {
        "train-images-idx3-ubyte.gz": GREY_IDX,
        "train-labels-idx1-ubyte.gz": LABELS_IDX,
        "t10k-images-idx3-ubyte.gz": GREY_IDX,
        "t10k-labels-idx1-ubyte.gz": LABELS_IDX,
    }
    for split in ("train", "test"):
        assert got.images[split].shape == (len(grey_tree.paths[split]), 28, 28)
        assert np.array_equal(got.images[split], grey_tree.sources[split])
        assert np.array_equal(got.labels[split], grey_tree.labels[split])
    assert not list(tmp_path.glob(".ds.*")), "the chunk directory and the lock are gone"


def test_class_order_is_sorted_folder_names(grey_tree, artifact, tmp_path):
    publish(grey_tree, tmp_path / "ds")
    body = artifact(tmp_path / "ds").manifest
    assert body["class_names"] == sorted(["T-shirt_top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                                          "Shirt", "Sneaker", "Bag", "Ankle boot"])  # fmt: skip
    assert body["class_names"][0] == "Ankle boot" and body["num_classes"] == 10
    for split in ("train", "test"):
        expected = np.bincount(grey_tree.labels[split], minlength=10).tolist()
        assert body["class_counts"][split] == expected
        names = [body["class_names"][label] for label in artifact(tmp_path / "ds").labels[split]]
        assert names == [path.split("/")[1] for path in grey_tree.paths[split]]


def test_manifest(grey_tree, artifact, tmp_path):
    out = tmp_path / "ds"
    result = publish(grey_tree, out)
    body = json.loads((out / "manifest.json").read_text())
    assert body == result.manifest
    assert body["format"] == "idx-dataset/v1"
    assert body["dataset"] == "image_folder"
    assert body["image_shape"] == [28, 28] and body["channels"] == 1
    assert body["counts"] == {"train": 600, "test": 200}
    assert body["source"] == str(grey_tree.root)
    assert body["producer"]["name"] == "data-prepare"
    images = body["images"]
    assert (images["resize"], images["resample"], images["on_bad_image"]) == ("crop", "bilinear", "fail")
    assert images["max_image_pixels"] == 40_000_000
    assert images["skipped"] == []
    assert images["ignored_files"] == 3  # README.txt, .DS_Store, notes.md
    assert len(images["plan"]) == 64
    for name, record in body["files"].items():
        data = (out / name).read_bytes()
        assert record["sha256"] == hashlib.sha256(data).hexdigest()
        assert record["bytes"] == len(data)
        assert (record["split"], record["kind"]) == (
            "train" if name.startswith("train") else "test",
            "images" if "images" in name else "labels",
        )


def test_rgb_output(grey_tree, artifact, tmp_path):
    publish(grey_tree, tmp_path / "ds", channels=3)
    got = artifact(tmp_path / "ds")
    assert got.magic["train-images-idx3-ubyte.gz"] == RGB_IDX
    assert got.images["train"].shape == (600, 28, 28, 3)
    assert got.manifest["channels"] == 3 and got.manifest["image_shape"] == [28, 28]
    for channel in range(3):  # grey converted to RGB repeats the value
        assert np.array_equal(got.images["test"][..., channel], grey_tree.sources["test"])


@pytest.mark.parametrize(
    ("resize", "channels", "size", "resample"),
    [
        ("crop", 1, 28, "bilinear"),
        ("pad", 3, 24, "bilinear"),
        ("stretch", 3, 32, "nearest"),
        ("crop", 3, 20, "nearest"),
    ],
)
def test_mixed_sizes_modes_and_formats_follow_the_documented_operations(
    mixed_tree, artifact, reference, tmp_path, resize, channels, size, resample
):
    publish(mixed_tree, tmp_path / "ds", resize=resize, channels=channels, image_size=size, resample=resample,
            chunk_size=50)  # fmt: skip
    got = artifact(tmp_path / "ds")
    for split in ("train", "test"):
        expected = np.stack(
            [
                reference(mixed_tree.root / p, size, channels, resize, resample)
                for p in mixed_tree.paths[split]
            ]
        )
        assert got.images[split].shape == expected.shape
        assert np.array_equal(got.images[split], expected)
        assert np.array_equal(got.labels[split], mixed_tree.labels[split])


def test_exif_orientation_is_applied(tmp_path, artifact, reference):
    from PIL import Image

    pixels = np.zeros((20, 40), np.uint8)
    pixels[:, :10] = 255  # a bright left edge
    for split in ("train", "test"):
        target = tmp_path / "src" / split / "a" / "rotated.jpg"
        target.parent.mkdir(parents=True)
        exif = Image.Exif()
        exif[0x0112] = 6  # displayed rotated 90 degrees clockwise
        Image.fromarray(pixels).save(target, exif=exif, quality=95)
    prepare_image_folder(
        ImageFolderSpec(image_size=28, resize="stretch"), tmp_path / "ds", source=str(tmp_path / "src")
    )
    got = artifact(tmp_path / "ds").images["train"][0]
    assert np.array_equal(got, reference(target, 28, 1, "stretch", "bilinear"))
    assert got[:5].mean() > 200 and got[-5:].mean() < 50  # the left edge is now on top


@pytest.mark.parametrize("level", [1, 9])
def test_resize_none_keeps_pixels_at_any_compress_level(grey_tree, artifact, tmp_path, level):
    publish(grey_tree, tmp_path / "ds", resize="none", compress_level=level)
    assert np.array_equal(artifact(tmp_path / "ds").images["train"], grey_tree.sources["train"])
    assert artifact(tmp_path / "ds").manifest["images"]["compress_level"] == level


def test_csv_with_split_column_gives_the_folder_artifact(grey_tree, artifact, tmp_path):
    publish(grey_tree, tmp_path / "folder")
    rows = grey_tree.csv("with_split.csv", rows=lambda rows: random.Random(0).sample(rows, len(rows)))
    result = publish(grey_tree, tmp_path / "csv", source=rows)
    folder, listed = artifact(tmp_path / "folder"), artifact(tmp_path / "csv")
    for name in folder.manifest["files"]:
        assert (tmp_path / "csv" / name).read_bytes() == (tmp_path / "folder" / name).read_bytes()
    assert result.manifest["source"] == str(rows)
    assert listed.manifest["class_names"] == folder.manifest["class_names"]


def test_csv_without_split_column_hashes_paths(grey_tree, artifact, tmp_path):
    first = grey_tree.csv("plain.csv", split_column=False)
    publish(grey_tree, tmp_path / "a", source=first, test_fraction=0.25)
    shuffled = grey_tree.csv(
        "shuffled.csv", split_column=False, rows=lambda r: random.Random(1).sample(r, len(r))
    )
    publish(grey_tree, tmp_path / "b", source=shuffled, test_fraction=0.25)
    a = artifact(tmp_path / "a")
    assert artifact(tmp_path / "b").manifest["counts"] == a.manifest["counts"]
    for name in a.manifest["files"]:  # row order does not matter
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    total = sum(a.manifest["counts"].values())
    assert total == 800
    assert 0.18 < a.manifest["counts"]["test"] / total < 0.32
    assert a.manifest["images"]["test_fraction"] == 0.25


def test_rerun_into_complete_output_is_a_noop(grey_tree, tmp_path):
    out = tmp_path / "ds"
    publish(grey_tree, out)
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    messages: list[str] = []
    spec = ImageFolderSpec(workers=2, chunk_size=150)
    again = prepare_image_folder(spec, out, source=str(grey_tree.root), log=messages.append)
    assert again.reused
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
    assert any("nothing to do" in m for m in messages), messages
    assert not any("decoded" in m for m in messages), messages


def test_changed_settings_republish(grey_tree, artifact, tmp_path):
    out = tmp_path / "ds"
    publish(grey_tree, out)
    result = publish(grey_tree, out, image_size=14)
    assert not result.reused
    assert artifact(out).images["train"].shape == (600, 14, 14)


def test_idx_dataset_refuses_other_output_shapes():
    from data_prepare import DatasetSpec

    base = {"name": "fashion_mnist", "image_shape": [28, 28], "counts": {"train": 1, "test": 1},
            "class_names": ["a", "b"]}  # fmt: skip
    assert DatasetSpec.from_config({**base, "image_size": 28, "channels": 1}).image_shape == (28, 28)
    with pytest.raises(
        PrepareError, match=r"^dataset.image_size=64: fashion_mnist images are 28x28 with 1 chan"
    ):
        DatasetSpec.from_config({**base, "image_size": 64, "channels": 1})
    with pytest.raises(
        PrepareError, match=r"^dataset.channels=3: .*choose the output of dataset=image_folder$"
    ):
        DatasetSpec.from_config({**base, "image_size": 28, "channels": 3})


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"channels": 2}, "dataset.channels=2: use 1 (grey) or 3 (RGB)"),
        ({"resize": "fit"}, "dataset.resize=fit: use one of crop, pad, stretch, none"),
        ({"resample": "cubic"}, "dataset.resample=cubic: use one of nearest"),
        ({"on_bad_image": "warn"}, "dataset.on_bad_image=warn: use fail or skip"),
        ({"test_fraction": 1.0}, "dataset.test_fraction=1.0"),
        ({"workers": 0}, "dataset.workers=0"),
        ({"compress_level": 10}, "dataset.compress_level=10: use 0 (stored) to 9 (smallest)"),
    ],
)
def test_bad_settings(settings, message):
    with pytest.raises(PrepareError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ImageFolderSpec.from_config(settings)
