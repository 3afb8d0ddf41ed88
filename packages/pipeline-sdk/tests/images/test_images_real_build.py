"""Real builds with buildah: the data-prepare image runs its console script inside, the serve image serves a
real trained model over HTTP."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
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


# What the serve image holds, printed as JSON by its python3 (the venv's, first on PATH).
IMAGE_CONTENTS = """
import glob, importlib.util, json, os
from importlib.metadata import distribution
site = glob.glob("/opt/venv/lib/python3*/site-packages")[0]
trainer = distribution("hydra-vertex-trainer")
print(json.dumps({
    "tools": [m for m in ("pip", "hatchling", "build", "wheel") if importlib.util.find_spec(m)],
    "tools_venv": os.path.exists("/opt/tools"),
    "venv": sorted(os.listdir(site)),
    "torch": str(distribution("torch").locate_file("torch")),
    "trainer": trainer.version,
    "trainer_from": json.loads(trainer.read_text("direct_url.json") or "{}").get("url", ""),
}))
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _http(method: str, port: int, path: str, body: Any = None) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        data = None if body is None else json.dumps(body).encode()
        connection.request(method, path, body=data, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def _descendants(pid: int) -> list[tuple[int, list[str]]]:
    """The processes below ``pid`` (Linux /proc), with their argv."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        try:
            argv = (Path("/proc") / str(child) / "cmdline").read_bytes().decode().split("\0")
        except OSError:
            continue
        found.append((child, argv))
        todo += children.get(child, [])
    return found


@pytest.mark.slow
def test_serve_image_builds_and_serves_a_trained_model(
    sdk: Callable[..., Any], buildah_storage: Any, torch_base_image: str, torch_wheelhouse: Path,
    tiny_dataset: Any, tmp_path: Path,
) -> None:  # fmt: skip
    pytest.importorskip("lightning", reason="the real trainer needs torch and lightning")
    # A real model to serve: one epoch of the real trainer on the tiny dataset, trained during the build.
    model_dir = tmp_path / "model"
    trainer = shutil.which("trainer", path=str(Path(sys.executable).parent)) or "trainer"
    training = subprocess.Popen(
        [trainer, "model=mlp", "trainer.max_epochs=1", f"data.data_dir={tiny_dataset.directory}",
         "data.val_size=20", "data.batch_size=32", f"paths.output_dir={model_dir}",
         "logger=none", "callbacks=none", "progress=none"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip

    lock_file = tmp_path / "images.lock.json"
    # As a user builds it: the trainer's source goes in as the `trainer` build context (build-images adds it,
    # serve depends on hydra-vertex-trainer); torch comes from the base, the wheelhouse only backs it up.
    result = sdk(
        "build-images", "--builder", "buildah", "--only", "serve", "--registry", REGISTRY,
        "--build-arg", f"BASE_IMAGE={torch_base_image}",
        "--wheelhouse", str(torch_wheelhouse),
        f"images.lock_file={lock_file}",
        env=buildah_storage.env, timeout=1800,
    )  # fmt: skip
    trained = training.communicate(timeout=600)[0]
    assert result.returncode == 0, result.stderr[-6000:]
    assert training.returncode == 0, trained[-3000:]

    version = source_version(REPO / "packages" / "serve")
    tag = f"{REGISTRY}/hydra-vertex-serve:{version}"
    entry = load_lock(lock_file).images["hydra-vertex-serve"]
    assert (entry.tagged, entry.digest, entry.pushed) == (tag, None, False)
    inspected = json.loads(buildah_storage.buildah("inspect", "--type", "image", tag))
    assert entry.image_id == f"sha256:{inspected['FromImageID']}"
    config = inspected["OCIv1"]["config"]
    assert config["User"] == "10001:10001"
    assert not config.get("Entrypoint")
    assert config["Cmd"] == ["serve"]
    assert list(config["ExposedPorts"]) == ["8080/tcp"]

    ctr = buildah_storage.buildah("from", tag)
    try:
        run = ["buildah", "run", "--isolation", "chroot", "-v", f"{model_dir}:/model:ro"]
        # No pip, no build tools in the runtime image: the base's torch plus serve's venv, nothing else; the
        # trainer in it is this checkout's (a wheel built from the `trainer` build context), not an index's.
        contents = json.loads(buildah_storage.buildah(*run[1:], ctr, "--", "python3", "-c", IMAGE_CONTENTS))
        assert contents["tools"] == []
        assert not contents["tools_venv"]
        assert not [
            d for d in contents["venv"] if d.split("-")[0] in ("pip", "setuptools", "wheel", "hatchling")
        ]
        # torch and torchvision are the base's, never replaced
        assert not [d for d in contents["venv"] if d.split("-")[0] in ("torch", "torchvision")]
        assert contents["torch"].startswith("/usr/local/lib/python3")
        assert contents["trainer"] == source_version(REPO / "packages" / "trainer")
        assert contents["trainer_from"].startswith("file:///dist/hydra_vertex_trainer-")

        # The image's own command, configured only by Vertex AI's environment. Under chroot isolation the
        # container shares the host's network, so its port is this machine's 127.0.0.1:PORT.
        port = _free_port()
        served = subprocess.Popen(
            [*run, "--env", "AIP_STORAGE_URI=/model", "--env", f"AIP_HTTP_PORT={port}", ctr, "--",
             *config["Cmd"]],
            env=buildah_storage.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 180
            status = None
            while status != 200:
                assert served.poll() is None, served.communicate()
                assert time.monotonic() < deadline, f"no 200 from /health (last {status})"
                try:
                    status, body = _http("GET", port, "/health")
                except OSError:
                    time.sleep(0.5)
                    continue
                assert status in (200, 503), (status, body)
                if status != 200:
                    time.sleep(0.5)
            assert body == {"status": "ready"}

            from trainer import load_idx_dataset, predict

            images = load_idx_dataset(tiny_dataset.directory).test_images[:3]
            status, body = _http("POST", port, "/predict", {"instances": images.tolist()})
            assert status == 200, body
            predictions = body["predictions"]
            expected = predict(model_dir, images)
            assert [p["class"] for p in predictions] == expected.tolist()
            names = json.loads((model_dir / "metrics.json").read_text()).get("class_names")
            for prediction in predictions:
                assert prediction["label"] == (
                    names[prediction["class"]] if names else str(prediction["class"])
                )
                assert len(prediction["scores"]) == 10
                assert abs(sum(prediction["scores"]) - 1) < 1e-4

            # Vertex AI stops a container with SIGTERM: serve exits 0, and so does `buildah run`. (buildah
            # itself answers SIGTERM by killing the process it runs, so the signal goes to serve directly.)
            # (buildah-chroot-runtime -> buildah-chroot-exec -> /opt/venv/bin/python /opt/venv/bin/serve)
            inside = [pid for pid, argv in _descendants(served.pid)
                      if "python" in Path(argv[0]).name and argv[1:2] == ["/opt/venv/bin/serve"]]  # fmt: skip
            assert len(inside) == 1, _descendants(served.pid)
            os.kill(inside[0], signal.SIGTERM)
            stdout, stderr = served.communicate(timeout=60)
        finally:
            if served.poll() is None:
                os.killpg(served.pid, signal.SIGKILL)
                served.wait(timeout=60)
        assert served.returncode == 0, (stdout, stderr)
        assert f"serve: listening on http://0.0.0.0:{port} " in stdout
        assert "serve: ready: /model " in stdout
        assert "Traceback" not in stderr
    finally:
        subprocess.run(["buildah", "rm", ctr], env=buildah_storage.env, capture_output=True, check=False)
