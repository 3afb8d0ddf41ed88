"""A real build of the data-prepare image with buildah, then its console script run inside the image."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline_sdk.images import load_lock
from pipeline_sdk.images.packages import source_version

REPO = Path(__file__).resolve().parents[4]
REGISTRY = "localhost/pipeline-sdk-test"


@pytest.mark.slow
def test_data_prepare_image_builds_and_publishes_a_dataset(
    sdk: Callable[..., Any], buildah_storage: Any, debian_base_image: str, torch_wheelhouse: Path,
    tiny_dataset: Any, tmp_path: Path,
) -> None:  # fmt: skip
    lock_file = tmp_path / "images.lock.json"
    result = sdk(
        "build-images", "--builder", "buildah", "--only", "data-prepare", "--registry", REGISTRY,
        "--build-arg", f"BASE_IMAGE={debian_base_image}",
        # The PyTorch CPU index is out of reach here: torch/torchvision come from the wheelhouse instead.
        "--build-arg", "PIP_EXTRA_INDEX_URL=",
        "--build-arg", "PIP_CONSTRAINT=/wheelhouse/constraints.txt",
        "--wheelhouse", str(torch_wheelhouse),
        f"images.lock_file={lock_file}",
        env=buildah_storage.env, timeout=1200,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-6000:]

    version = source_version(REPO / "packages" / "data-prepare")
    tag = f"{REGISTRY}/hydra-vertex-data-prepare:{version}"  # the distribution names the image
    entry = load_lock(lock_file).images["hydra-vertex-data-prepare"]
    assert (entry.tagged, entry.digest, entry.pushed) == (tag, None, False)
    inspected = json.loads(buildah_storage.buildah("inspect", "--type", "image", tag))
    assert entry.image_id == f"sha256:{inspected['FromImageID']}"
    config = inspected["OCIv1"]["config"]
    assert config["User"] == "10001:10001"
    assert not config.get("Entrypoint")
    assert config["Cmd"] == ["data-prepare", "--help"]

    out = tmp_path / "out"
    out.mkdir()
    os.chmod(out, 0o777)  # the image runs as an unprivileged user
    ctr = buildah_storage.buildah("from", tag)
    run = [
        "run",
        "--isolation",
        "chroot",
        "-v",
        f"{tiny_dataset.directory}:/data:ro",
        "-v",
        f"{out}:/out",
        ctr,
        "--",
    ]
    # No pip, no build tools in the runtime image: only the package's venv on top of the base.
    tools = buildah_storage.buildah(*run, "python3", "-c",
        "import importlib.util as u; print([m for m in ('pip', 'hatchling', 'build') if u.find_spec(m)])")  # fmt: skip
    assert tools == "[]"
    args = [a.replace(str(tiny_dataset.directory), "/data") for a in tiny_dataset.data_prepare_args()]
    printed = buildah_storage.buildah(*run, "data-prepare", *args, "paths.output_dir=/out/dataset")
    assert "published" in printed

    dataset = out / "dataset"
    manifest = json.loads((dataset / "manifest.json").read_text())
    assert manifest["producer"] == {"name": "data-prepare", "version": version}
    assert manifest["counts"] == tiny_dataset.counts
    for name, meta in manifest["files"].items():
        published = (dataset / name).read_bytes()
        assert published == (tiny_dataset.directory / name).read_bytes()
        assert meta["sha256"] == hashlib.sha256(published).hexdigest()
    assert sorted(p.name for p in dataset.iterdir()) == sorted([*manifest["files"], "manifest.json"])
