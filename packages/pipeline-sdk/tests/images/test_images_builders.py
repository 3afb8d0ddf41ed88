"""Builder choice and the exact command lines given to docker buildx, buildah and podman."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline_sdk.errors import ImageBuildError
from pipeline_sdk.images.builders import (
    Buildah,
    BuildSpec,
    DockerBuildx,
    Podman,
    detect_builder,
    make_builder,
)

SPEC = BuildSpec(
    context=Path("/repo/packages/trainer"),
    dockerfile=Path("/repo/packages/trainer/Dockerfile"),
    tag="r.example/team/trainer:0.1.0",
    build_args={"BASE_IMAGE": "oci-archive:/b.tar", "PIP_EXTRA_INDEX_URL": ""},
    build_contexts={"wheelhouse": Path("/wheels")},
)


@pytest.fixture(autouse=True)
def _default_buildah_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STORAGE_DRIVER", raising=False)
    monkeypatch.delenv("BUILDAH_ISOLATION", raising=False)
    monkeypatch.delenv("BUILDAH_LAYERS", raising=False)


def test_docker_buildx_command() -> None:
    assert DockerBuildx().build_command(SPEC, Path("/t/trainer.id")) == [
        "docker", "buildx", "build", "--file", "/repo/packages/trainer/Dockerfile",
        "--tag", "r.example/team/trainer:0.1.0",
        "--build-arg", "BASE_IMAGE=oci-archive:/b.tar", "--build-arg", "PIP_EXTRA_INDEX_URL=",
        "--build-context", "wheelhouse=/wheels",
        "--provenance=false", "--metadata-file", "/t/trainer.id", "--load", "/repo/packages/trainer",
    ]  # fmt: skip
    assert DockerBuildx().push_command(SPEC.tag, Path("/t/d")) == ["docker", "push", SPEC.tag]
    assert DockerBuildx().remote_manifest_command(SPEC.tag) == [
        "docker", "buildx", "imagetools", "inspect", "--raw", SPEC.tag,
    ]  # fmt: skip


def test_buildah_command_is_daemonless_and_portable_by_default() -> None:
    assert Buildah().build_command(SPEC, Path("/t/trainer.id")) == [
        "buildah", "--storage-driver", "vfs", "build", "--isolation", "chroot", "--layers=true",
        "--file", "/repo/packages/trainer/Dockerfile", "--tag", "r.example/team/trainer:0.1.0",
        "--build-arg", "BASE_IMAGE=oci-archive:/b.tar", "--build-arg", "PIP_EXTRA_INDEX_URL=",
        "--build-context", "wheelhouse=/wheels", "--iidfile", "/t/trainer.id", "/repo/packages/trainer",
    ]  # fmt: skip
    assert Buildah().push_command(SPEC.tag, Path("/t/d")) == [
        "buildah", "--storage-driver", "vfs", "push", "--digestfile", "/t/d", SPEC.tag, f"docker://{SPEC.tag}",
    ]  # fmt: skip


def test_buildah_honours_its_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORAGE_DRIVER", "overlay")
    monkeypatch.setenv("BUILDAH_ISOLATION", "oci")
    monkeypatch.setenv("BUILDAH_LAYERS", "false")
    argv = Podman().build_command(SPEC, Path("/t/id"))
    assert argv[:7] == [
        "podman",
        "--storage-driver",
        "overlay",
        "build",
        "--isolation",
        "oci",
        "--layers=false",
    ]


def test_insecure_registries_skip_tls_verification() -> None:
    push = Podman(insecure=True).push_command(SPEC.tag, Path("/t/d"))
    assert push[:5] == ["podman", "--storage-driver", "vfs", "push", "--tls-verify=false"]
    check = Buildah(insecure=True).remote_manifest_command(SPEC.tag)
    if check is not None:  # None where skopeo is not installed
        assert check == ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{SPEC.tag}"]


def test_image_ids_and_pushed_digests_are_read_from_what_the_tools_write(tmp_path: Path) -> None:
    hexdigest = "ab" * 32
    (tmp_path / "iid").write_text(f"sha256:{hexdigest}")
    assert Buildah().image_id(tmp_path / "iid") == f"sha256:{hexdigest}"
    (tmp_path / "iid").write_text(hexdigest + "\n")
    assert Podman().image_id(tmp_path / "iid") == f"sha256:{hexdigest}"
    (tmp_path / "meta.json").write_text(json.dumps({"containerimage.config.digest": f"sha256:{hexdigest}"}))
    assert DockerBuildx().image_id(tmp_path / "meta.json") == f"sha256:{hexdigest}"
    pushed = f"The push refers to repository [r/t]\n5f70bf18a086: Pushed\n0.1.0: digest: sha256:{'cd' * 32} size: 1573\n"
    assert DockerBuildx().pushed_digest(tmp_path / "unused", pushed) == f"sha256:{'cd' * 32}"
    with pytest.raises(ImageBuildError, match="printed no digest"):
        DockerBuildx().pushed_digest(
            tmp_path / "unused", "denied: requested access to the resource is denied"
        )


def _tools(*present: str):
    return lambda name: f"/usr/bin/{name}" if name in present else None


def test_docker_is_preferred_when_its_daemon_answers() -> None:
    assert isinstance(detect_builder(which=_tools("docker", "buildah"), answers=lambda argv: 0), DockerBuildx)


def test_without_a_docker_daemon_buildah_then_podman_are_used() -> None:
    def daemon_down(argv: list[str]) -> int:
        return 1 if argv[:2] == ["docker", "info"] else 0

    assert isinstance(
        detect_builder(which=_tools("docker", "buildah", "podman"), answers=daemon_down), Buildah
    )
    assert type(detect_builder(which=_tools("docker", "podman"), answers=daemon_down)) is Podman


def test_docker_without_buildx_is_not_used() -> None:
    def no_buildx(argv: list[str]) -> int:
        return 1 if argv[:2] == ["docker", "buildx"] else 0

    with pytest.raises(ImageBuildError, match="docker: the buildx plugin is missing; buildah: not on PATH"):
        detect_builder(which=_tools("docker"), answers=no_buildx)


def test_no_builder_names_what_was_looked_for_and_how_to_install() -> None:
    with pytest.raises(ImageBuildError) as caught:
        detect_builder(which=_tools(), answers=lambda argv: 0)
    message = str(caught.value)
    for fragment in (
        "docker: not on PATH",
        "buildah: not on PATH",
        "podman: not on PATH",
        "apt-get install buildah",
    ):
        assert fragment in message


def test_a_requested_builder_is_the_only_candidate() -> None:
    assert isinstance(
        detect_builder("podman", which=_tools("buildah", "podman"), answers=lambda a: 0), Podman
    )
    with pytest.raises(ImageBuildError, match=r"\(podman: not on PATH\)"):
        detect_builder("podman", which=_tools("buildah"), answers=lambda a: 0)
    assert make_builder("docker", insecure=True) == DockerBuildx(insecure=True)
