"""dataset=image_folder from gs:// over real HTTP (a loopback Cloud Storage JSON API), and through /gcs/."""

from __future__ import annotations

import shutil

from data_prepare import ImageFolderSpec, prepare_image_folder
from data_prepare.image_folder import layout


def upload(tree, bucket_root) -> None:
    shutil.copytree(tree.root, bucket_root / "bucket" / "images")


def local_reference(tree, tmp_path, **settings):
    spec = ImageFolderSpec(**settings)
    return prepare_image_folder(spec, tmp_path / "local", source=str(tree.root))


def test_gcs_image_folder_via_cli(grey_tree, fake_gcs, cli, artifact, tmp_path):
    upload(grey_tree, fake_gcs.root)
    out = tmp_path / "ds"
    result = cli(
        "dataset=image_folder",
        "source=gs://bucket/images",
        "dataset.workers=2",
        "dataset.chunk_size=200",
        f"paths.output_dir={out}",
    )
    assert result.returncode == 0, result.stderr
    assert "ignored 3 files" in result.stderr
    local_reference(grey_tree, tmp_path, workers=1, chunk_size=200)
    got, local = artifact(out), artifact(tmp_path / "local")
    for name in local.manifest["files"]:
        assert (out / name).read_bytes() == (tmp_path / "local" / name).read_bytes()
    assert got.manifest["source"] == "gs://bucket/images"
    listings = [r for r in fake_gcs.requests if r.startswith("/storage/v1/b/bucket/o?")]
    assert len(listings) >= 800 // fake_gcs.page_size and any("pageToken=" in r for r in listings)
    downloads = [r for r in fake_gcs.requests if r.startswith("/download/storage/v1/b/bucket/o/")]
    assert len(downloads) == 800


def test_gcs_csv_in_process(grey_tree, fake_gcs, artifact, tmp_path):
    upload(grey_tree, fake_gcs.root)
    grey_tree.csv("labels.csv")
    shutil.copy(grey_tree.root / "labels.csv", fake_gcs.root / "bucket" / "images" / "labels.csv")
    spec = ImageFolderSpec(workers=2, chunk_size=300)
    result = prepare_image_folder(spec, tmp_path / "ds", source="gs://bucket/images/labels.csv")
    assert result.manifest["source"] == "gs://bucket/images/labels.csv"
    local_reference(grey_tree, tmp_path, workers=1, chunk_size=300)
    for name in result.manifest["files"]:
        assert (tmp_path / "ds" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()


def test_gcs_missing_prefix_is_one_line(fake_gcs, tmp_path):
    (fake_gcs.root / "bucket").mkdir()
    import pytest

    from data_prepare import PrepareError

    with pytest.raises(PrepareError, match=r"^gs://bucket/nothing/train: no class folders"):
        prepare_image_folder(ImageFolderSpec(), tmp_path / "ds", source="gs://bucket/nothing")


def test_fuse_mount_is_read_directly(grey_tree, artifact, tmp_path, monkeypatch):
    monkeypatch.setattr(layout, "FUSE_ROOT", tmp_path / "gcs")
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "http://127.0.0.1:9")  # nothing listens: it must not be used
    upload(grey_tree, tmp_path / "gcs")
    result = prepare_image_folder(ImageFolderSpec(), tmp_path / "ds", source="gs://bucket/images")
    assert result.manifest["source"] == "gs://bucket/images"
    assert result.manifest["counts"] == {"train": 600, "test": 200}
