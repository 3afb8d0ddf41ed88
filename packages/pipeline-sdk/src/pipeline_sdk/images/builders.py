"""The image builders `build-images` can drive, and the exact command lines it gives them.

``docker buildx`` is used when a Docker daemon answers; otherwise the daemonless ``buildah`` or ``podman``.
Command construction is pure (no process is started), so dry runs and tests see exactly what would run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pipeline_sdk.errors import ImageBuildError

BUILDER_NAMES = ("docker", "buildah", "podman")

INSTALL_HINT = (
    "install one of them: Docker with the buildx plugin (https://docs.docker.com/engine/install/) and start "
    "its daemon, or the daemonless `apt-get install buildah` / `apt-get install podman`"
)


@dataclass(frozen=True)
class BuildSpec:
    """What to build: ``context`` (the package directory) with its Dockerfile, tagged ``tag``."""

    context: Path
    dockerfile: Path
    tag: str
    build_args: Mapping[str, str] = field(default_factory=dict)
    build_contexts: Mapping[str, Path] = field(default_factory=dict)


def _build_options(spec: BuildSpec) -> list[str]:
    argv = ["--file", str(spec.dockerfile), "--tag", spec.tag]
    for key, value in spec.build_args.items():
        argv += ["--build-arg", f"{key}={value}"]
    for name, path in spec.build_contexts.items():
        argv += ["--build-context", f"{name}={path}"]
    return argv


@dataclass(frozen=True)
class Builder(ABC):
    """A named tool: how to build, read the built image's ID, push, and inspect a registry."""

    name: str = ""
    insecure: bool = False  # plain HTTP / no TLS verification towards the registry

    @abstractmethod
    def build_command(self, spec: BuildSpec, id_file: Path) -> list[str]:
        """Build ``spec`` into local image storage, writing what identifies the image to ``id_file``."""

    def image_id(self, id_file: Path) -> str:
        """The built image's config digest (``sha256:...``) from the file the build wrote."""
        text = id_file.read_text().strip()
        return text if text.startswith("sha256:") else f"sha256:{text}"

    @abstractmethod
    def push_command(self, tag: str, digest_file: Path) -> list[str]:
        """Push the local image ``tag`` to its registry (buildah/podman write the digest to ``digest_file``)."""

    def pushed_digest(self, digest_file: Path, output: str) -> str:
        """The registry's manifest digest of the pushed image."""
        return digest_file.read_text().strip()

    def remote_manifest_command(self, reference: str) -> list[str] | None:
        """A command printing the raw manifest of ``reference`` in its registry (None: no tool for it)."""
        if not shutil.which("skopeo"):
            return None
        tls = ["--tls-verify=false"] if self.insecure else []
        return ["skopeo", "inspect", "--raw", *tls, f"docker://{reference}"]


@dataclass(frozen=True)
class DockerBuildx(Builder):
    name: str = "docker"

    def build_command(self, spec: BuildSpec, id_file: Path) -> list[str]:
        # --provenance=false: a plain image manifest, not an index with an attestation manifest.
        return ["docker", "buildx", "build", *_build_options(spec), "--provenance=false",
                "--metadata-file", str(id_file), "--load", str(spec.context)]  # fmt: skip

    def image_id(self, id_file: Path) -> str:
        metadata = json.loads(id_file.read_text())
        return str(metadata["containerimage.config.digest"])

    def push_command(self, tag: str, digest_file: Path) -> list[str]:
        return ["docker", "push", tag]

    def pushed_digest(self, digest_file: Path, output: str) -> str:
        # `docker push` ends with "<tag>: digest: sha256:<hex> size: <n>".
        found = re.findall(r"digest: (sha256:[0-9a-f]{64})", output)
        if not found:
            raise ImageBuildError(f"docker push printed no digest:\n{output.strip()}")
        return found[-1]

    def remote_manifest_command(self, reference: str) -> list[str] | None:
        return ["docker", "buildx", "imagetools", "inspect", "--raw", reference]


def _storage_options() -> list[str]:
    # Containers without overlayfs (CI, this repo's dev machines) need vfs; STORAGE_DRIVER overrides it.
    return ["--storage-driver", os.environ.get("STORAGE_DRIVER") or "vfs"]


def _layers() -> str:
    # Cached layers make a rebuild of unchanged sources the same image; BUILDAH_LAYERS=false turns them off.
    return "--layers=" + (os.environ.get("BUILDAH_LAYERS") or "true")


def _isolation() -> str:
    # chroot needs no user namespaces or OCI runtime; BUILDAH_ISOLATION overrides it.
    return os.environ.get("BUILDAH_ISOLATION") or "chroot"


@dataclass(frozen=True)
class Buildah(Builder):
    name: str = "buildah"

    def build_command(self, spec: BuildSpec, id_file: Path) -> list[str]:
        return [self.name, *_storage_options(), "build", "--isolation", _isolation(), _layers(),
                *_build_options(spec), "--iidfile", str(id_file), str(spec.context)]  # fmt: skip

    def push_command(self, tag: str, digest_file: Path) -> list[str]:
        tls = ["--tls-verify=false"] if self.insecure else []
        return [self.name, *_storage_options(), "push", *tls, "--digestfile", str(digest_file),
                tag, f"docker://{tag}"]  # fmt: skip


@dataclass(frozen=True)
class Podman(Buildah):
    name: str = "podman"


Runner = Callable[[list[str]], int]


def _answers(argv: list[str]) -> int:
    try:
        return subprocess.run(argv, capture_output=True, timeout=20, check=False).returncode
    except (OSError, subprocess.TimeoutExpired):
        return 1


def make_builder(name: str, insecure: bool = False) -> Builder:
    return {"docker": DockerBuildx, "buildah": Buildah, "podman": Podman}[name](insecure=insecure)


def detect_builder(
    preferred: str | None = None,
    insecure: bool = False,
    which: Callable[[str], str | None] = shutil.which,
    answers: Runner = _answers,
) -> Builder:
    """The builder to use: ``preferred`` if given (and usable), else docker buildx, buildah, podman."""
    names = [preferred] if preferred else list(BUILDER_NAMES)
    problems = []
    for name in names:
        if not which(name):
            problems.append(f"{name}: not on PATH")
        elif name == "docker" and answers(["docker", "info", "--format", "{{.ServerVersion}}"]) != 0:
            problems.append("docker: no Docker daemon answers")
        elif name == "docker" and answers(["docker", "buildx", "version"]) != 0:
            problems.append("docker: the buildx plugin is missing")
        else:
            return make_builder(name, insecure)
    raise ImageBuildError(f"no image builder available ({'; '.join(problems)}); {INSTALL_HINT}")
