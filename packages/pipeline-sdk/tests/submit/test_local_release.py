"""`pipeline-sdk run` with the steps after training, on the real packages: without GCP settings the register
step says it skipped; with them it registers (and deploys) the trained model in the loopback Vertex AI fake;
`pipeline-sdk serve` then answers for the run's model."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from submit_fakes.credentials import write_key_file
from submit_fakes.model_registry import FakeVertexModels
from submit_fakes.server import Recorded

TINY = ("params.epochs=1", "params.batch_size=32")


def tiny_run(sdk: Callable, prepare: Path, train: Path, runs: Path, *args: str, **kw: Any) -> Any:
    return sdk(
        "run",
        f"steps.data-prepare.component={prepare}",
        f"steps.train.component={train}",
        f"local.root={runs}",
        *TINY,
        *args,
        **kw,
    )


def test_without_gcp_settings_the_register_step_says_it_skipped(
    sdk: Callable, tiny_data_prepare: Path, tiny_train: Path, runs: Path
) -> None:
    result = tiny_run(sdk, tiny_data_prepare, tiny_train, runs, "register.enabled=true", "--run-name", "r")
    assert result.returncode == 0, result.stderr
    skipped = [line for line in result.stderr.splitlines() if "register-model: skipped" in line]
    assert len(skipped) == 1, result.stderr
    record = result.run_json()
    assert record["tasks"]["register-model"]["state"] == "SUCCEEDED"
    registered = Path(record["tasks"]["register-model"]["outputs"]["registered_model"]["uri"])
    assert json.loads((registered / "registration.json").read_text())["skipped"] is True


def wait_line(process: subprocess.Popen[str], pattern: str, timeout: float = 60) -> re.Match[str]:
    import selectors

    selector = selectors.DefaultSelector()
    assert process.stdout is not None
    selector.register(process.stdout, selectors.EVENT_READ)
    seen = []
    while selector.select(timeout):
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        found = re.search(pattern, line)
        if found:
            return found
    raise AssertionError(f"no line matching {pattern!r} in {seen}")


def wait_ready(url: str, timeout: float = 60) -> None:
    """Until ``url`` answers 200: the server listens before its model is loaded (503 until then)."""
    import time
    import urllib.error

    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as reply:
                if reply.status == 200:
                    return
        except urllib.error.HTTPError as e:
            if e.code != 503 or time.monotonic() > deadline:
                raise
        time.sleep(0.1)


def test_serve_answers_for_the_runs_model_as_trainer_predict_does(
    sdk: Callable, tiny_data_prepare: Path, tiny_train: Path, runs: Path, tiny_dataset: Any
) -> None:
    result = tiny_run(sdk, tiny_data_prepare, tiny_train, runs, "--run-name", "s")
    assert result.returncode == 0, result.stderr
    script = Path(sys.executable).with_name("pipeline-sdk")
    server = subprocess.Popen(
        [str(script), "serve", str(result.run_dir), "--port", "0", "device=cpu"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = wait_line(server, r"listening on (http://\S+:\d+)")[1]
        wait_ready(f"{url}/health")
        import numpy as np

        from trainer import load_idx_dataset, predict

        model_dir = result.run_dir / "train" / "model"
        images = load_idx_dataset(tiny_dataset.directory).test_images[:8]
        body = json.dumps({"instances": images.tolist()}).encode()
        request = urllib.request.Request(f"{url}/predict", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as reply:
            predictions = json.loads(reply.read())["predictions"]
        assert [p["class"] for p in predictions] == list(predict(model_dir, images))
        assert all(abs(sum(p["scores"]) - 1) < 1e-4 for p in predictions)
        assert np.all([p["label"] for p in predictions])
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)


def uploaded_model(upload: Recorded) -> dict[str, Any]:
    return upload.body["model"]


@pytest.mark.parametrize("deploy", [False, True], ids=["register", "register-and-deploy"])
def test_with_gcp_settings_it_registers_the_trained_model_in_the_fake(
    sdk: Callable,
    tiny_data_prepare: Path,
    tiny_train: Path,
    runs: Path,
    rsa_key: tuple[bytes, bytes],
    tmp_path: Path,
    deploy: bool,
) -> None:
    with FakeVertexModels(rsa_key[1]) as fake:
        key = write_key_file(tmp_path / "sa-key.json", rsa_key[0], f"{fake.url}/token")
        result = tiny_run(
            sdk,
            tiny_data_prepare,
            tiny_train,
            runs,
            "register.enabled=true",
            f"deploy.enabled={str(deploy).lower()}",
            "gcp.project=demo-project",
            f"gcp.api_endpoint={fake.url}",
            "gcp.pipeline_root=gs://demo-bucket/runs",
            "--run-name",
            "g",
            env={"GOOGLE_APPLICATION_CREDENTIALS": str(key), "STORAGE_EMULATOR_HOST": fake.url},
        )
        assert result.returncode == 0, result.stderr
        assert "register-model: note: staged the local model at gs://demo-bucket/runs/" in result.stderr
        [upload] = fake.uploads()
        model = uploaded_model(upload)
        assert upload.path == "/v1/projects/demo-project/locations/us-central1/models:upload"
        assert upload.body.get("modelId") == "hydra-fashion-mnist"
        assert model["artifactUri"].startswith("gs://demo-bucket/runs/registered-models/hydra-fashion-mnist/")
        serving = model["containerSpec"]
        assert serving["imageUri"].startswith("localhost/hydra-components/hydra-vertex-serve:")
        assert serving["predictRoute"] == "/predict" and serving["healthRoute"] == "/health"
        metrics = json.loads((result.run_dir / "train" / "model" / "metrics.json").read_text())
        labels = model["labels"]
        assert labels["metric-val_accuracy"] == repr(metrics["val_accuracy"]).replace(".", "_")
        # the first version takes the guarded alias: there is no champion to beat
        assert "champion" in fake.model("hydra-fashion-mnist").aliases()
        record = result.run_json()
        registration = Path(record["tasks"]["register-model"]["outputs"]["registered_model"]["uri"])
        assert json.loads((registration / "registration.json").read_text())["promoted"] is True
        if deploy:
            [deployed] = fake.deploys()
            assert deployed.body["trafficSplit"] == {"0": 100}
            assert deployed.body["deployedModel"]["model"].endswith("/models/hydra-fashion-mnist@1")
            assert record["tasks"]["deploy-model"]["state"] == "SUCCEEDED"
        else:
            assert not fake.deploys() and "deploy-model" not in record["tasks"]
