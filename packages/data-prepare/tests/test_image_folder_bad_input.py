"""dataset=image_folder: every bad image (fail through the console script, and skip), every structural error."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from data_prepare import ImageFolderSpec, PrepareError, prepare_image_folder


def cli_args(tree, out: Path, *extra: str) -> list[str]:
    return ["dataset=image_folder", f"source={tree.root}", f"paths.output_dir={out}", *extra]


def assert_one_line_failure(result, *fragments: str) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("data-prepare: error: ")]
    assert len(errors) == 1, result.stderr
    for fragment in fragments:
        assert fragment in errors[0], result.stderr
    return errors[0]


def spoil(tree, kind: str, bomb_png: Path) -> tuple[str, list[str], str]:
    """Put one bad image of ``kind`` in ``tree``; returns its path, extra overrides, and the expected reason."""
    from PIL import Image

    folder = tree.root / "train" / "Bag"
    good = tree.root / tree.paths["train"][0]
    if kind == "not_an_image":
        (folder / "notes.png").write_text("hello, not a PNG")
        return "train/Bag/notes.png", [], "not an image Pillow can read"
    if kind == "truncated":
        data = (folder / "big.jpg").parent / "big.jpg"
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64), np.uint8)).save(data, quality=95)
        data.write_bytes(data.read_bytes()[:-600])
        return "train/Bag/big.jpg", [], "does not decode (OSError: image file is truncated"
    if kind == "symlink_outside":
        outside = tree.root.parent / "outside.png"
        shutil.copy(good, outside)
        (folder / "link.png").symlink_to(outside)
        return "train/Bag/link.png", [], f"symlink to {outside}, outside the source tree"
    if kind == "too_many_pixels":
        os.link(bomb_png, folder / "huge.png")
        return (
            "train/Bag/huge.png",
            [],
            "30000x30000 = 900,000,000 pixels is over max_image_pixels=40,000,000",
        )
    assert kind == "wrong_size"
    Image.fromarray(np.zeros((30, 28), np.uint8)).save(folder / "tall.png")
    return "train/Bag/tall.png", ["dataset.resize=none"], "28x30, expected 28x28 (resize=none)"


BAD_KINDS = ["not_an_image", "truncated", "symlink_outside", "too_many_pixels", "wrong_size"]


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_bad_image_fails_naming_the_file(small_tree, bomb_png, cli, tmp_path, kind):
    path, extra, reason = spoil(small_tree, kind, bomb_png)
    out = tmp_path / "ds"
    result = cli(*cli_args(small_tree, out, "dataset.workers=2", "dataset.chunk_size=8", *extra))
    assert_one_line_failure(result, f"bad image {small_tree.root}/{path}: {reason}", "on_bad_image=skip")
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no chunks, no lock


def test_bad_images_skipped_are_listed(small_tree, bomb_png, cli, artifact, tmp_path):
    expected = {}
    for kind in BAD_KINDS:
        path, _, reason = spoil(small_tree, kind, bomb_png)
        expected[path] = reason
    out = tmp_path / "ds"
    result = cli(*cli_args(small_tree, out, "dataset.on_bad_image=skip", "dataset.resize=none"))
    assert result.returncode == 0, result.stderr
    assert "skipped 5 bad image(s) (dataset.on_bad_image=skip; listed in the manifest)" in result.stderr
    got = artifact(out)
    skipped = got.manifest["images"]["skipped"]
    assert [s["path"] for s in skipped] == sorted(expected)
    for record in skipped:
        assert expected[record["path"]] in record["reason"]
    assert got.manifest["counts"] == {"train": 40, "test": 12}
    assert np.array_equal(got.images["train"], small_tree.sources["train"])


def test_only_bad_images_in_a_split_fails(small_tree, tmp_path):
    for path in small_tree.paths["test"]:
        (small_tree.root / path).write_bytes(b"broken")
    spec = ImageFolderSpec(on_bad_image="skip")
    with pytest.raises(PrepareError, match=r"^no test images left after skipping 12 bad image\(s\)$"):
        prepare_image_folder(spec, tmp_path / "ds", source=str(small_tree.root))


def structural(tree, tmp_path, change) -> str:
    change(tree.root)
    with pytest.raises(PrepareError) as failure:
        prepare_image_folder(ImageFolderSpec(), tmp_path / "ds", source=str(tree.root))
    assert not (tmp_path / "ds").exists()
    message = str(failure.value)
    assert "\n" not in message
    return message


def test_missing_train_or_test(small_tree, tmp_path):
    message = structural(small_tree, tmp_path, lambda root: shutil.rmtree(root / "test"))
    assert (
        message
        == f"{small_tree.root}/test: no such folder; an image folder holds train/<class>/ and test/<class>/ images"
    )


def test_empty_class_folder_is_named(small_tree, tmp_path):
    message = structural(small_tree, tmp_path, lambda root: (root / "train" / "Zebra").mkdir())
    assert (
        message == f"{small_tree.root}/train/Zebra: empty class folder (no .png, .jpg, .jpeg, .webp images)"
    )


def test_class_only_in_test_is_named(small_tree, tmp_path):
    def add(root: Path) -> None:
        (root / "test" / "Zebra").mkdir()
        shutil.copy(root / small_tree.paths["test"][0], root / "test" / "Zebra" / "z.png")

    message = structural(small_tree, tmp_path, add)
    assert (
        message
        == f"{small_tree.root}/test/Zebra: class 'Zebra' is only in test/ (no {small_tree.root}/train/Zebra)"
    )


def test_no_class_folders(tmp_path):
    for split in ("train", "test"):
        (tmp_path / "src" / split).mkdir(parents=True)
    with pytest.raises(PrepareError, match=r"/train: no class folders; an image folder holds train/<class>/"):
        prepare_image_folder(ImageFolderSpec(), tmp_path / "ds", source=str(tmp_path / "src"))


def test_unwritable_output_dir(small_tree):
    with pytest.raises(
        PrepareError, match=r"^cannot write the output directory's chunks /proc/self/.ds.chunks-"
    ):
        prepare_image_folder(ImageFolderSpec(), "/proc/self/ds", source=str(small_tree.root))


def test_missing_source(tmp_path):
    with pytest.raises(PrepareError, match=r"^source=.*/nowhere: no such directory or .csv file$"):
        prepare_image_folder(ImageFolderSpec(), tmp_path / "ds", source=str(tmp_path / "nowhere"))


def write_csv(tree, text: str) -> Path:
    target = tree.root / "list.csv"
    target.write_text(text)
    return target


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("file,class\na.png,x\n", r"list.csv line 1: the header must be path,label or path,label,split"),
        (
            "path,label\n{train0},Bag\n{train1},Bag,extra\n",
            r"list.csv line 3: 3 fields, expected 2 \(path,label\)",
        ),
        ("path,label,split\n{train0},Bag,val\n", r"list.csv line 2: split 'val' is not train or test"),
        ("path,label,split\n{train0},,train\n", r"list.csv line 2: empty label"),
        (
            "path,label,split\n{train0},Bag,train\n{train0},Bag,test\n",
            r"list.csv line 3: .* is listed twice \(first on line 2\)",
        ),
        (
            "path,label,split\n{train0},Bag,train\n{train1},Cat,test\n",
            r"list.csv: class 'Cat' has test images but no train images",
        ),
        (
            "path,label,split\n{train0},Bag,train\n",
            r"list.csv: no test images \(add a split column, or raise dataset.test_fraction\)",
        ),
        ("path,label\n", r"source=.*list.csv: no images found"),
    ],
)
def test_bad_csv_names_the_line(small_tree, tmp_path, text, message):
    text = text.format(train0=small_tree.paths["train"][0], train1=small_tree.paths["train"][1])
    source = write_csv(small_tree, text)
    with pytest.raises(PrepareError, match=message) as failure:
        prepare_image_folder(ImageFolderSpec(), tmp_path / "ds", source=str(source))
    assert "\n" not in str(failure.value)


def test_csv_path_escaping_the_tree_is_a_bad_image(small_tree, tmp_path):
    rows = "".join(
        f"{p},{p.split('/')[1]},{p.split('/')[0]}\n"
        for p in small_tree.paths["train"] + small_tree.paths["test"]
    )
    outside = tmp_path / "outside.png"
    shutil.copy(small_tree.root / small_tree.paths["train"][0], outside)
    source = write_csv(small_tree, f"path,label,split\n../outside.png,Bag,train\n{outside},Bag,train\n{rows}")
    with pytest.raises(PrepareError, match=r"^bad image .*/outside.png: outside the source tree"):
        prepare_image_folder(ImageFolderSpec(), tmp_path / "ds", source=str(source))
    result = prepare_image_folder(ImageFolderSpec(on_bad_image="skip"), tmp_path / "ds", source=str(source))
    skipped = result.manifest["images"]["skipped"]
    assert sorted(s["path"] for s in skipped) == sorted(["../outside.png", str(outside)])
    assert result.manifest["counts"]["train"] == 40


def test_more_than_256_classes(tmp_path):
    from PIL import Image

    rows = []
    for i in range(257):
        for split in ("train", "test"):
            Image.new("L", (2, 2), i % 256).save(tmp_path / f"{split}{i}.png")
            rows.append(f"{split}{i}.png,c{i:03d},{split}")
    (tmp_path / "list.csv").write_text("path,label,split\n" + "\n".join(rows))
    with pytest.raises(
        PrepareError, match=r"257 classes; the IDX labels file holds one byte per label, so at most 256"
    ):
        prepare_image_folder(ImageFolderSpec(), tmp_path / "ds", source=str(tmp_path / "list.csv"))


def test_symlinks_inside_the_tree_are_read(small_tree, artifact, tmp_path):
    first = small_tree.root / small_tree.paths["test"][0]
    (small_tree.root / "test" / first.parent.name / "zz-link.png").symlink_to(first)
    result = prepare_image_folder(ImageFolderSpec(), tmp_path / "ds", source=str(small_tree.root))
    assert result.manifest["counts"]["test"] == 13


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "auto",
            "dataset=image_folder needs a source=: a folder holding train/<class>/ and test/<class>/ images",
        ),
        ("https://example.com/x", "source='https://example.com/x': dataset=image_folder reads a folder"),
    ],
)
def test_source_forms_via_cli(cli, tmp_path, source, message):
    result = cli("dataset=image_folder", f"source={source}", f"paths.output_dir={tmp_path / 'ds'}")
    assert_one_line_failure(result, message, ".csv list (path,label[,split]), or gs://bucket/prefix")
    assert not (tmp_path / "ds").exists()


def test_idx_datasets_refuse_other_output_shapes_via_cli(tiny, cli, tmp_path):
    result = cli(*tiny.overrides(), "dataset.image_size=64", f"paths.output_dir={tmp_path / 'ds'}")
    assert_one_line_failure(
        result,
        "dataset.image_size=64: fashion_mnist images are 28x28 with 1 channel; image_size and channels choose "
        "the output of dataset=image_folder",
    )
    accepted = cli(
        *tiny.overrides(),
        "dataset.image_size=28",
        "dataset.channels=1",
        f"paths.output_dir={tmp_path / 'ok'}",
    )
    assert accepted.returncode == 0, accepted.stderr
    assert json.loads((tmp_path / "ok" / "manifest.json").read_text())["channels"] == 1
