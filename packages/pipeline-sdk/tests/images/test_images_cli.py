"""`pipeline-sdk build-images` as a user runs it: dry runs and every refusal (exit code, one message)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline_sdk.config import load_config
from pipeline_sdk.images.packages import source_version

REPO = Path(__file__).resolve().parents[4]
COMPONENT_PACKAGES = ("data-prepare", "model-registry", "select-best", "serve", "trainer")
VERSIONS = {name: source_version(REPO / "packages" / name) for name in COMPONENT_PACKAGES}
#: package folder → distribution name, which names the image
IMAGES = {name: f"hydra-vertex-{name}" for name in COMPONENT_PACKAGES}


def test_dry_run_prints_every_build_with_its_tag(sdk: Callable[..., Any], tmp_path: Path) -> None:
    lock = tmp_path / "lock.json"
    result = sdk("build-images", "--dry-run", "--builder", "buildah", "--registry", "r.example/team",
                 "--build-arg", "BASE_IMAGE=oci-archive:/b.tar", f"images.lock_file={lock}")  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(COMPONENT_PACKAGES) + 1
    for line, name in zip(lines, COMPONENT_PACKAGES, strict=False):
        assert line.startswith("buildah --storage-driver vfs build --isolation chroot")
        assert f"--tag r.example/team/{IMAGES[name]}:{VERSIONS[name]}" in line
        assert f"--file {REPO}/packages/{name}/Dockerfile" in line
        assert "--build-arg BASE_IMAGE=oci-archive:/b.tar" in line
        assert line.endswith(f" {REPO}/packages/{name}")
        # the serving image installs the trainer (not on a package index) from its source folder
        sibling = f"--build-context trainer={REPO}/packages/trainer"
        assert (sibling in line) == (name == "serve"), line
    assert lines[-1] == f"# then record {', '.join(IMAGES.values())} in {lock}"
    assert not lock.exists()  # a dry run writes nothing


def test_dry_run_push_shows_the_registry_check_and_the_push(sdk: Callable[..., Any]) -> None:
    result = sdk("build-images", "--dry-run", "--push", "--only", "trainer", "--builder", "docker",
                 "--registry", "us-central1-docker.pkg.dev/p/r", "--wheelhouse", str(REPO))  # fmt: skip
    assert result.returncode == 0, result.stderr
    tag = f"us-central1-docker.pkg.dev/p/r/{IMAGES['trainer']}:{VERSIONS['trainer']}"
    build, check, push, record = result.stdout.splitlines()
    assert build.startswith("docker buildx build ") and f"--tag {tag}" in build
    assert f"--build-context wheelhouse={REPO}" in build
    assert check == f"docker buildx imagetools inspect --raw {tag}"
    assert push == f"docker push {tag}"
    assert IMAGES["trainer"] in record and IMAGES["data-prepare"] not in record


def test_dry_run_force_push_skips_the_check(sdk: Callable[..., Any]) -> None:
    result = sdk(
        "build-images", "--dry-run", "--push", "--force", "--only", "data-prepare", "--builder", "podman"
    )
    assert result.returncode == 0, result.stderr
    assert [line.split()[:4] for line in result.stdout.splitlines()[:2]] == [
        ["podman", "--storage-driver", "vfs", "build"], ["podman", "--storage-driver", "vfs", "push"]
    ]  # fmt: skip


def test_the_default_registry_comes_from_the_pipeline_config(sdk: Callable[..., Any]) -> None:
    registry = load_config(config_dir=REPO / "configs").images.registry
    result = sdk("build-images", "--dry-run", "--builder", "buildah", "--only", "trainer")
    assert result.returncode == 0, result.stderr
    assert f"--tag {registry}/{IMAGES['trainer']}:{VERSIONS['trainer']}" in result.stdout
    overridden = sdk("build-images", "--dry-run", "--builder", "buildah", "images.registry=gcr.io/x")
    assert f"--tag gcr.io/x/{IMAGES['data-prepare']}:{VERSIONS['data-prepare']}" in overridden.stdout


def test_without_any_builder_a_real_run_says_what_to_install(
    sdk: Callable[..., Any], clean_error: Callable[..., None], tmp_path: Path
) -> None:
    empty = tmp_path / "empty-path"
    empty.mkdir()
    result = sdk("build-images", f"images.lock_file={tmp_path / 'lock.json'}", env={"PATH": str(empty)})
    clean_error(result, "no image builder available", "docker: not on PATH", "buildah: not on PATH",
                "podman: not on PATH", "apt-get install buildah")  # fmt: skip
    assert not (tmp_path / "lock.json").exists()
    dry = sdk("build-images", "--dry-run", env={"PATH": str(empty)})
    assert dry.returncode == 0 and dry.stdout.startswith("docker buildx build")
    assert "showing docker buildx commands" in dry.stderr


def test_bad_input_is_one_clear_error(
    sdk: Callable[..., Any], clean_error: Callable[..., None], tmp_path: Path
) -> None:
    cases: list[tuple[list[str], int, str]] = [
        (["--registry", "https://gcr.io/p"], 1, "write it without a scheme"),
        (["--registry", "gcr.io/Upper"], 1, "with a lowercase path"),
        (
            ["--only", "hydra-yaml-lint"],
            1,
            "unknown component hydra-yaml-lint; choose from data-prepare, model-registry, select-best, serve, trainer",
        ),
        (["--force"], 2, "--force only applies with --push"),
        (["--build-arg", "NOEQUALS"], 2, "write it as KEY=VALUE"),
        (["--builder", "kaniko"], 2, "invalid choice: 'kaniko'"),
        (["--wheelhouse", str(tmp_path / "missing")], 1, "not a directory"),
        (["images.nope=1"], 1, "unknown config key"),
    ]
    for args, code, message in cases:
        clean_error(sdk("build-images", "--dry-run", *args), message, code=code)


def test_a_broken_lock_is_refused_before_anything_is_built(
    sdk: Callable[..., Any], clean_error: Callable[..., None], tmp_path: Path
) -> None:
    lock = tmp_path / "images.lock.json"
    lock.write_text(json.dumps({"version": 99, "images": {}}))
    clean_error(
        sdk("build-images", "--builder", "buildah", f"images.lock_file={lock}"), "is not an image lock"
    )
    assert json.loads(lock.read_text()) == {"version": 99, "images": {}}
