"""The CLI end to end on tiny generated data: publish, no-op, atomicity and every bad input."""

import json
from pathlib import Path

import pytest


def assert_clean_failure(result, *fragments: str) -> None:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def no_partials(parent: Path) -> bool:
    return not [p for p in parent.iterdir() if ".partial-" in p.name or ".old-" in p.name]


def test_publishes_manifest_and_files(tiny, cli, tmp_path):
    out = tmp_path / "artifact" / "dataset"
    result = cli(*tiny.overrides(), f"paths.output_dir={out}")
    assert result.returncode == 0, result.stderr
    assert "published fashion_mnist (40 train / 10 test images)" in result.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] == "idx-dataset/v1"
    assert manifest["dataset"] == "fashion_mnist"
    assert manifest["counts"] == {"train": 40, "test": 10}
    assert manifest["num_classes"] == 10 and manifest["class_names"][0] == "T-shirt/top"
    assert manifest["source"] == str(tiny.directory)
    assert manifest["producer"]["name"] == "data-prepare"
    for name, record in manifest["files"].items():
        assert (out / name).read_bytes() == (tiny.directory / name).read_bytes()
        assert record["sha256"] == tiny.digest(name)
        assert record["verified_by"].endswith("(dataset.checksums)")
    assert oct(out.stat().st_mode & 0o777) != oct(0o700)
    assert no_partials(out.parent)


def test_rerun_is_a_noop(tiny, cli, tmp_path):
    out = tmp_path / "ds"
    assert cli(*tiny.overrides(), f"paths.output_dir={out}").returncode == 0
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    again = cli(*tiny.overrides(), f"paths.output_dir={out}")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("reused fashion_mnist")
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


def test_empty_output_dir_is_filled(tiny, cli, tmp_path):
    out = tmp_path / "ds"
    out.mkdir()  # KFP launchers may create the artifact directory beforehand
    assert cli(*tiny.overrides(), f"paths.output_dir={out}").returncode == 0
    assert (out / "manifest.json").is_file()


def test_checksum_mismatch_names_file_and_both_digests(tiny, cli, tmp_path):
    overrides = tiny.overrides()
    good = tiny.digest("t10k-images-idx3-ubyte.gz")
    overrides[-1] = overrides[-1].replace(good, "0" * 64)
    result = cli(*overrides, f"paths.output_dir={tmp_path / 'ds'}")
    assert_clean_failure(result, "checksum mismatch for t10k-images-idx3-ubyte.gz", good, "0" * 64)
    assert not (tmp_path / "ds").exists()


def test_failure_half_way_leaves_nothing(tiny, cli, tmp_path, idx):
    import gzip

    import numpy as np

    # the last file is bad: three files are already written when verification fails
    tiny.rewrite("t10k-labels-idx1-ubyte.gz", gzip.compress(idx(2049, np.full(10, 11))))
    out = tmp_path / "ds"
    result = cli(*tiny.overrides(), f"paths.output_dir={out}")
    assert_clean_failure(result, "t10k-labels-idx1-ubyte.gz: label 11 at index 0 is outside 0..9")
    assert not out.exists()
    assert no_partials(tmp_path)


def test_failure_leaves_previous_artifact_unchanged(tiny, cli, tmp_path, idx):
    out = tmp_path / "ds"
    assert cli(*tiny.overrides(), f"paths.output_dir={out}").returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    # a different (bad) request into the same directory must not disturb it
    result = cli(*tiny.overrides(), "dataset=mnist", "dataset.counts.train=41", f"paths.output_dir={out}")
    assert_clean_failure(result, "train-images-idx3-ubyte.gz")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert no_partials(tmp_path)


def test_stale_artifact_is_replaced(tiny, cli, tmp_path):
    out = tmp_path / "ds"
    assert cli(*tiny.overrides(), f"paths.output_dir={out}").returncode == 0
    result = cli(*tiny.overrides(), "dataset=kmnist", f"paths.output_dir={out}")
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "manifest.json").read_text())["dataset"] == "kmnist"
    assert no_partials(tmp_path)


def test_refuses_foreign_directory(tiny, cli, tmp_path):
    out = tmp_path / "ds"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = cli(*tiny.overrides(), f"paths.output_dir={out}")
    assert_clean_failure(result, "is not empty and holds no dataset manifest")
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_stale_partial_of_dead_process_is_removed(tiny, cli, tmp_path):
    stale = tmp_path / ".ds.partial-999999999-abc"
    stale.mkdir()
    (stale / "train-images-idx3-ubyte.gz").write_bytes(b"half")
    assert cli(*tiny.overrides(), f"paths.output_dir={tmp_path / 'ds'}").returncode == 0
    assert not stale.exists()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (
            "train-images-idx3-ubyte.gz",
            b"<html>Not Found</html>",
            "train-images-idx3-ubyte.gz: not a gzip file",
        ),
        (
            "train-labels-idx1-ubyte.gz",
            "TRUNCATE",
            "train-labels-idx1-ubyte.gz: truncated or corrupt gzip data",
        ),
    ],
)
def test_bad_gzip(tiny, cli, tmp_path, name, data, message):
    if data == "TRUNCATE":
        data = (tiny.directory / name).read_bytes()[:-30]
    tiny.rewrite(name, data)
    result = cli(*tiny.overrides(), f"paths.output_dir={tmp_path / 'ds'}")
    assert_clean_failure(result, message)
    assert not (tmp_path / "ds").exists()


def test_wrong_idx_header(tiny, cli, tmp_path, idx):
    import gzip

    import numpy as np

    tiny.rewrite("train-images-idx3-ubyte.gz", gzip.compress(idx(2049, np.zeros(40))))
    result = cli(*tiny.overrides(), f"paths.output_dir={tmp_path / 'ds'}")
    assert_clean_failure(result, "train-images-idx3-ubyte.gz: wrong IDX header: magic number 0x00000801")


def test_missing_source_file(tiny, cli, tmp_path):
    overrides = tiny.overrides()
    (tiny.directory / "t10k-images-idx3-ubyte.gz").unlink()
    result = cli(*overrides, f"paths.output_dir={tmp_path / 'ds'}")
    assert_clean_failure(result, "missing t10k-images-idx3-ubyte.gz")


def test_unknown_dataset_lists_valid_ones(cli, tmp_path):
    result = cli("dataset=cifar", f"paths.output_dir={tmp_path / 'ds'}")
    assert_clean_failure(result, "Could not find 'dataset/cifar'", "fashion_mnist", "kmnist", "mnist")


def test_unknown_config_key(cli, tmp_path):
    result = cli("datset=mnist", f"paths.output_dir={tmp_path / 'ds'}")
    assert_clean_failure(result, "Could not override 'datset'")


def test_output_dir_required(cli):
    assert_clean_failure(cli(), "paths.output_dir is required")


@pytest.mark.parametrize("where", ["under_a_file", "read_only_fs"])
def test_unwritable_output_dir(tiny, cli, tmp_path, where):
    if where == "under_a_file":
        (tmp_path / "file").write_text("x")
        out = tmp_path / "file" / "ds"
    else:
        out = Path("/proc/self/ds")  # read-only even for root
    result = cli(*tiny.overrides(), f"paths.output_dir={out}")
    assert_clean_failure(result, f"cannot write the output directory {out}")


def test_offline_without_local_copy_names_both_ways_out(cli, tmp_path):
    result = cli(
        "dataset.system_dirs=[]",
        "download.mirrors=[http://127.0.0.1:9/]",
        "download.timeout_s=5",
        f"paths.output_dir={tmp_path / 'ds'}",
    )
    assert_clean_failure(
        result,
        "cannot download train-images-idx3-ubyte.gz",
        "apt-get install dataset-fashion-mnist",
        "source=",
    )
    assert not (tmp_path / "ds").exists()


def test_bad_source_scheme(cli, tmp_path):
    assert_clean_failure(cli("source=ftp://x/", f"paths.output_dir={tmp_path / 'ds'}"), "source='ftp://x/'")
