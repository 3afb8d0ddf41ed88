"""Fixtures for real image builds: a locally made Debian base image, buildah storage, a local wheelhouse.

Nothing here pulls from a container registry. The base image is a ``debootstrap --variant=minbase``
Debian root filesystem with python3 from Debian packages, committed by buildah to an OCI archive that
Dockerfiles use as ``FROM oci-archive:PATH``. The archive is cached under ``$PIPELINE_SDK_TEST_CACHE``
(default ``~/.cache/pipeline-sdk-tests``) keyed by everything that goes into it, so reruns skip debootstrap.
``torch_base_image`` (that base plus torch/torchvision, a stand-in for a PyTorch image) is cached the same
way.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

DEBIAN_SUITE = "bookworm"  # its python3 (3.11) matches the wheels this machine's pip has on disk
DEBIAN_MIRROR = os.environ.get("DEBIAN_MIRROR", "http://deb.debian.org/debian")
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates")
# Extra CAs this machine trusts (e.g. a TLS-inspecting egress proxy): the base image trusts them too, so
# pip inside the build reaches PyPI the way pip on this machine does.
LOCAL_CA_DIR = Path("/usr/local/share/ca-certificates")
RECIPE_VERSION = 1  # bump when the recipe below changes
# torch/torchvision releases whose wheels this machine's pip finds on local disk (see `pip config list`);
# the test build installs them from a wheelhouse instead of downloading GBs of CUDA wheels from PyPI.
LOCAL_TORCH = ("torch==2.13.0+cpu", "torchvision==0.28.0")


def _cache_dir() -> Path:
    root = os.environ.get("PIPELINE_SDK_TEST_CACHE") or Path.home() / ".cache" / "pipeline-sdk-tests"
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _local_cas() -> dict[str, str]:
    if not LOCAL_CA_DIR.is_dir():
        return {}
    return {p.name: p.read_text() for p in sorted(LOCAL_CA_DIR.glob("*.crt"))}


def _base_key(cas: dict[str, str]) -> str:
    inputs = [RECIPE_VERSION, DEBIAN_SUITE, DEBIAN_MIRROR, BASE_PACKAGES, cas]
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]


def _run(*argv: str, env: dict[str, str] | None = None, timeout: float = 900) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    return done.stdout.strip()


def require_tools(*tools: str) -> None:
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (apt-get install {' '.join(missing)})")
    if "debootstrap" in tools and os.geteuid() != 0:
        pytest.skip("debootstrap and chroot need root")


@dataclass(frozen=True)
class BuildahStorage:
    """A private containers-storage (vfs) for one test session, selected through the environment."""

    root: Path

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "CONTAINERS_STORAGE_CONF": str(self.root / "storage.conf"),
            "STORAGE_DRIVER": "vfs",
            # One layer per stage instead of one per instruction: with vfs every layer is a full copy.
            "BUILDAH_LAYERS": "false",
        }

    def buildah(self, *args: str, timeout: float = 900) -> str:
        return _run("buildah", *args, env=self.env, timeout=timeout)


def _make_storage(root: Path) -> BuildahStorage:
    root.mkdir(parents=True, exist_ok=True)
    (root / "storage.conf").write_text(
        f'[storage]\ndriver = "vfs"\ngraphroot = "{root / "graph"}"\nrunroot = "{root / "run"}"\n'
    )
    return BuildahStorage(root)


@pytest.fixture(scope="session")
def buildah_storage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuildahStorage]:
    require_tools("buildah")
    storage = _make_storage(tmp_path_factory.mktemp("containers-storage"))
    yield storage
    # Nothing may stay mounted before the directory goes (buildah run unmounts its own binds on exit).
    subprocess.run(["buildah", "umount", "--all"], env=storage.env, capture_output=True, check=False)
    subprocess.run(["rm", "-rf", "--one-file-system", str(storage.root)], check=False)  # faster than rmtree


def build_debian_base(archive: Path, storage: BuildahStorage, cas: dict[str, str]) -> None:
    """debootstrap a minbase Debian with python3 into a buildah container and commit it to ``archive``."""
    ctr = storage.buildah("from", "scratch")
    try:
        rootfs = Path(storage.buildah("mount", ctr))
        _run("debootstrap", "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}",
             DEBIAN_SUITE, str(rootfs), DEBIAN_MIRROR)  # fmt: skip
        for name, text in cas.items():
            (rootfs / LOCAL_CA_DIR.relative_to("/") / name).write_text(text)
        _run("chroot", str(rootfs), "update-ca-certificates")
        _run("chroot", str(rootfs), "apt-get", "clean")
        shutil.rmtree(rootfs / "var/lib/apt/lists", ignore_errors=True)
        storage.buildah("config", "--env", "LANG=C.UTF-8", "--cmd", '["python3"]', ctr)
        partial = archive.with_name(f".{archive.name}.partial")
        storage.buildah("commit", ctr, f"oci-archive:{partial}")
        partial.replace(archive)
    finally:
        subprocess.run(["buildah", "rm", ctr], env=storage.env, capture_output=True, check=False)


@pytest.fixture(scope="session")
def debian_base_image(buildah_storage: BuildahStorage) -> str:
    """``oci-archive:PATH`` of the Debian + python3 base image (built once, then cached)."""
    require_tools("debootstrap", "chroot")
    cas = _local_cas()
    archive = _cache_dir() / f"debian-{DEBIAN_SUITE}-python3-{_base_key(cas)}.oci.tar"
    if not archive.is_file():
        build_debian_base(archive, buildah_storage, cas)
    return f"oci-archive:{archive}"


@pytest.fixture(scope="session")
def torch_wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CPU torch and matching-version torchvision wheels this machine's pip has on disk, plus pins.

    ``pip download`` finds them exactly as ``pip install`` here does (find-links / local index from
    /etc/xdg/pip/pip.conf); the wheelhouse becomes the build's ``wheelhouse`` context.
    """
    directory = tmp_path_factory.mktemp("wheelhouse")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "--dest", str(directory),
         *LOCAL_TORCH],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(
            f"the local torch wheels ({', '.join(LOCAL_TORCH)}) are not on this machine: {done.stderr[-500:]}"
        )
    (directory / "constraints.txt").write_text("\n".join(LOCAL_TORCH) + "\n")
    return directory


# A PyTorch base image the way the serve/trainer Dockerfiles expect one (their default BASE_IMAGE is
# pytorch/pytorch): torch and torchvision in the image's python3, the Debian base's python3-venv beside them.
# A throw-away venv's pip installs them into the system python3 (/usr/local/lib/python3.*/dist-packages) from
# the wheelhouse; their pure-Python dependencies come from the index, as in the component builds.
# torchvision 0.28.0 here is PyPI's CUDA build (no CPU build is on this machine): its compiled ops need
# libtorch_cuda, so `import torchvision` fails against the CPU torch. Nothing the images serve or train with
# imports it (the trainer's benchmark baseline and data-prepare's upstream-MD5 lookup do); it is there
# because the packages require it and a PyTorch base image has it.
TORCH_BASE_DOCKERFILE = """\
ARG BASE_IMAGE
FROM scratch AS wheelhouse
FROM ${BASE_IMAGE}
RUN --mount=type=bind,from=wheelhouse,target=/wheelhouse \\
    python3 -m venv /tmp/pip \\
 && /tmp/pip/bin/pip --python /usr/bin/python3 install --no-cache-dir --disable-pip-version-check \\
      --break-system-packages --root-user-action=ignore --find-links /wheelhouse \\
      --constraint /wheelhouse/constraints.txt torch torchvision \\
 && rm -rf /tmp/pip \\
 && python3 -c "import torch"
"""


def build_torch_base(archive: Path, storage: BuildahStorage, base: str, wheelhouse: Path, work: Path) -> None:
    """Build :data:`TORCH_BASE_DOCKERFILE` on ``base`` and commit it to ``archive`` (an OCI archive)."""
    (work / "Dockerfile").write_text(TORCH_BASE_DOCKERFILE)
    tag = f"localhost/pipeline-sdk-test/torch-base:{os.getpid()}"
    storage.buildah("build", "--isolation", "chroot", "--layers=false", "--build-arg", f"BASE_IMAGE={base}",
                    "--build-context", f"wheelhouse={wheelhouse}", "--tag", tag, str(work),
                    timeout=1800)  # fmt: skip
    try:
        partial = archive.with_name(f".{archive.name}.{os.getpid()}.partial")  # parallel sessions: one wins
        storage.buildah("push", tag, f"oci-archive:{partial}", timeout=1800)
        partial.replace(archive)
    finally:
        subprocess.run(["buildah", "rmi", tag], env=storage.env, capture_output=True, check=False)


@pytest.fixture(scope="session")
def torch_base_image(
    buildah_storage: BuildahStorage, debian_base_image: str, torch_wheelhouse: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> str:  # fmt: skip
    """``oci-archive:PATH`` of the Debian base with torch/torchvision in its python3 (built once, cached).

    The stand-in for a PyTorch base image (``BASE_IMAGE`` of the trainer and serve Dockerfiles). The cache
    key covers the recipe, the Debian base's own key and the torch pins; the index's dependencies of torch
    are whatever the first build resolved.
    """
    inputs = [TORCH_BASE_DOCKERFILE, debian_base_image.rsplit("/", 1)[-1], LOCAL_TORCH]
    key = hashlib.sha256(json.dumps(inputs).encode()).hexdigest()[:16]
    archive = _cache_dir() / f"debian-{DEBIAN_SUITE}-python3-torch-{key}.oci.tar"
    if not archive.is_file():
        work = tmp_path_factory.mktemp("torch-base")
        build_torch_base(archive, buildah_storage, debian_base_image, torch_wheelhouse, work)
    return f"oci-archive:{archive}"


class _Registry:
    """The in-memory state of :class:`FakeRegistry`: blobs by digest, manifests by repository and reference."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.uploads: dict[str, bytearray] = {}
        self.manifests: dict[tuple[str, str], tuple[str, bytes]] = {}  # (repo, tag or digest) -> (type, body)

    def put_manifest(self, repository: str, reference: str, media_type: str, body: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        self.manifests[(repository, digest)] = (media_type, body)
        self.manifests[(repository, reference)] = (media_type, body)
        return digest


class _RegistryHandler(BaseHTTPRequestHandler):
    """The part of the OCI distribution API that push and inspect use, over plain HTTP."""

    protocol_version = "HTTP/1.1"
    state: _Registry

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        pass

    def _reply(self, code: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _not_found(self, code: str) -> None:
        body = json.dumps({"errors": [{"code": code, "message": code.lower().replace("_", " ")}]}).encode()
        self._reply(404, body, {"Content-Type": "application/json"})

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() != "chunked":  # pushes stream blobs chunked
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))
        data = bytearray()
        while size := int(self.rfile.readline().split(b";")[0].strip(), 16):
            data += self.rfile.read(size)
            self.rfile.readline()
        while self.rfile.readline().strip():  # trailers end with an empty line
            pass
        return bytes(data)

    def _route(self) -> tuple[str, str, str] | None:
        path = urlsplit(self.path).path
        if path in ("/v2", "/v2/"):
            return ("base", "", "")
        match = re.match(r"^/v2/(?P<repo>.+)/(?P<kind>blobs/uploads|blobs|manifests)/?(?P<ref>[^/]*)$", path)
        return (match["kind"], match["repo"], match["ref"]) if match else None

    def do_GET(self) -> None:
        route = self._route()
        if route is None:
            return self._not_found("NAME_UNKNOWN")
        kind, repo, ref = route
        if kind == "base":
            return self._reply(200, b"{}", {"Content-Type": "application/json"})
        if kind == "blobs":
            blob = self.state.blobs.get(ref)
            if blob is None:
                return self._not_found("BLOB_UNKNOWN")
            return self._reply(
                200, blob, {"Docker-Content-Digest": ref, "Content-Type": "application/octet-stream"}
            )
        if kind == "manifests":
            found = self.state.manifests.get((repo, ref))
            if found is None:
                return self._not_found("MANIFEST_UNKNOWN")
            media_type, body = found
            digest = "sha256:" + hashlib.sha256(body).hexdigest()
            return self._reply(200, body, {"Content-Type": media_type, "Docker-Content-Digest": digest})
        return self._not_found("NAME_UNKNOWN")

    do_HEAD = do_GET

    def do_POST(self) -> None:
        route = self._route()
        if route is None or route[0] != "blobs/uploads":
            return self._not_found("NAME_UNKNOWN")
        self._body()
        upload = uuid.uuid4().hex
        self.state.uploads[upload] = bytearray()
        location = f"/v2/{route[1]}/blobs/uploads/{upload}"
        self._reply(202, b"", {"Location": location, "Docker-Upload-UUID": upload, "Range": "0-0"})

    def do_PATCH(self) -> None:
        route = self._route()
        if route is None or route[0] != "blobs/uploads" or route[2] not in self.state.uploads:
            return self._not_found("BLOB_UPLOAD_UNKNOWN")
        data = self.state.uploads[route[2]]
        data += self._body()
        location = f"/v2/{route[1]}/blobs/uploads/{route[2]}"
        self._reply(202, b"", {"Location": location, "Range": f"0-{max(len(data) - 1, 0)}"})

    def do_PUT(self) -> None:
        route = self._route()
        if route is None:
            return self._not_found("NAME_UNKNOWN")
        kind, repo, ref = route
        body = self._body()
        if kind == "blobs/uploads" and ref in self.state.uploads:
            data = bytes(self.state.uploads.pop(ref) + body)
            digest = parse_qs(urlsplit(self.path).query)["digest"][0]
            if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
                return self._reply(400, b'{"errors": [{"code": "DIGEST_INVALID"}]}')
            self.state.blobs[digest] = data
            return self._reply(
                201, b"", {"Location": f"/v2/{repo}/blobs/{digest}", "Docker-Content-Digest": digest}
            )
        if kind == "manifests":
            media_type = self.headers.get("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            digest = self.state.put_manifest(repo, ref, media_type, body)
            return self._reply(
                201, b"", {"Location": f"/v2/{repo}/manifests/{digest}", "Docker-Content-Digest": digest}
            )
        self._not_found("NAME_UNKNOWN")


@dataclass
class FakeRegistry:
    """A container registry on 127.0.0.1 (plain HTTP) that real skopeo/buildah push to and inspect."""

    host: str
    state: _Registry


@pytest.fixture
def fake_registry() -> Iterator[FakeRegistry]:
    state = _Registry()
    handler = type("Handler", (_RegistryHandler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield FakeRegistry(f"127.0.0.1:{server.server_address[1]}", state)
    finally:
        server.shutdown()
        server.server_close()
