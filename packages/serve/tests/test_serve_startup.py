"""Start-up and shutdown: Vertex AI's environment configures the server, a gs:// model comes from (a fake)
Cloud Storage, start-up errors are one line and exit 1, SIGTERM exits 0 and Ctrl-C 130."""

from __future__ import annotations

import shutil
import signal
import socket
from pathlib import Path

import pytest

from serve import ARTIFACT_FILES

ROUTES = {
    "AIP_HEALTH_ROUTE": "/v1/endpoints/123/deployedModels/456",
    "AIP_PREDICT_ROUTE": "/v1/endpoints/123/deployedModels/456:predict",
}
IMAGE = [[0] * 28] * 28


def _one_error_line(result, fragment: str) -> None:
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("serve: error: "), result.stderr
    assert fragment in result.stderr


def test_vertex_environment_and_a_gs_model(
    launch_serve, serve_env, fake_gcs, model_dir: Path, server
) -> None:
    fake_gcs.put_dir("models-bucket", "runs/7/model", model_dir, ARTIFACT_FILES)
    env = serve_env(
        AIP_STORAGE_URI="gs://models-bucket/runs/7/model/",
        AIP_HTTP_PORT="0",
        STORAGE_EMULATOR_HOST=fake_gcs.url,
        **ROUTES,
    )
    gs_server = launch_serve(["device=cpu"], env=env)  # no arguments: the environment is the configuration
    downloads = sorted(p for p in fake_gcs.requests if p.startswith("/download/"))
    assert downloads == [
        f"/download/storage/v1/b/models-bucket/o/runs%2F7%2Fmodel%2F{n}?alt=media"
        for n in sorted(ARTIFACT_FILES)
    ]
    assert gs_server.request("GET", ROUTES["AIP_HEALTH_ROUTE"]).status == 200
    assert gs_server.request("GET", "/health").status == 404
    served = gs_server.predict([IMAGE], path=ROUTES["AIP_PREDICT_ROUTE"])
    assert served.json() == server.predict([IMAGE]).json()  # the same model as the local directory's
    # Ctrl-C: exit 130, one line
    assert gs_server.stop(signal.SIGINT) == 130
    assert gs_server.stderr() == "serve: interrupted\n"


def test_health_is_503_while_loading_and_sigterm_exits_0(launch_serve, model_dir: Path) -> None:
    loading = launch_serve([f"model_uri={model_dir}", "port=0"], wait_ready=False)
    health = loading.request("GET", "/health")  # torch is still importing
    assert (health.status, health.json()) == (503, {"error": "the model is still loading"})
    assert loading.request("POST", "/predict", b'{"instances": []}').status == 503
    assert loading.stop(signal.SIGTERM) == 0
    assert loading.stderr() == ""


def test_missing_model_is_one_line(serve_once, tmp_path: Path) -> None:
    _one_error_line(
        serve_once([f"model_uri={tmp_path / 'nope'}", "port=0"]),
        f"model directory {tmp_path / 'nope'} does not exist",
    )


def test_no_model_uri_is_one_line(serve_once) -> None:
    _one_error_line(serve_once(["port=0"]), "no model: set model_uri=DIR")


@pytest.mark.parametrize("missing", ["model.pt", "metrics.json"])
def test_incomplete_model_dir_is_one_line(serve_once, model_dir: Path, tmp_path: Path, missing: str) -> None:
    partial = shutil.copytree(model_dir, tmp_path / "partial", ignore=shutil.ignore_patterns("checkpoints"))
    (partial / missing).unlink()
    _one_error_line(serve_once([f"model_uri={partial}", "port=0"]), f"has no {missing}")


def test_unreadable_model_is_one_line(serve_once, model_dir: Path, tmp_path: Path) -> None:
    broken = shutil.copytree(model_dir, tmp_path / "broken", ignore=shutil.ignore_patterns("checkpoints"))
    (broken / "model.pt").write_bytes(b"not a torch file")
    _one_error_line(
        serve_once([f"model_uri={broken}", "port=0", "device=cpu"]), f"cannot load the model in {broken}: "
    )


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("port=70000", "port must be 0-65535, got 70000"),
        ("port=http", "port must be an integer, got 'http'"),
        ("predict_route=predict", "predict_route must be a path starting with /"),
        ("limits.max_instances=0", "limits.max_instances must be at least 1, got 0"),
        ("model_uri=s3://bucket/model", "only local directories and gs:// URIs are supported"),
        ("model_uri=gs://", "names no bucket"),
    ],
)
def test_bad_settings_are_one_line(serve_once, model_dir: Path, override: str, fragment: str) -> None:
    _one_error_line(serve_once([f"model_uri={model_dir}", "port=0", override]), fragment)


def test_port_in_use_is_one_line(serve_once, model_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        _one_error_line(
            serve_once([f"model_uri={model_dir}", f"port={port}"]), f"cannot listen on 0.0.0.0:{port}: "
        )


def test_missing_gs_object_is_one_line(serve_once, serve_env, fake_gcs, model_dir: Path) -> None:
    fake_gcs.put_dir("bucket", "model", model_dir, ("model.pt", "metrics.json"))
    env = serve_env(STORAGE_EMULATOR_HOST=fake_gcs.url)
    result = serve_once(["model_uri=gs://bucket/model", "port=0"], env=env)
    _one_error_line(result, "gs://bucket/model/config.yaml does not exist")


def test_unavailable_cuda_device_is_one_line(serve_once, model_dir: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is visible")
    _one_error_line(serve_once([f"model_uri={model_dir}", "port=0", "device=cuda"]), "torch sees no CUDA GPU")
