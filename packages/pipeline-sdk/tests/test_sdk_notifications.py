"""Notifications when a run ends: the exit handler in the compiled spec, GCPC's email op, and the webhook exit
step posting to a loopback fake webhook (real HTTP) from `pipeline-sdk run`."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline_sdk import notify_webhook
from pipeline_sdk.compiler import compile_pipeline
from pipeline_sdk.config import load_config
from pipeline_sdk.sweep import load_with_sweep

REPO = Path(__file__).resolve().parents[3]
CONFIGS = str(REPO / "configs")
EMAIL = "vertex-pipelines-notification-email"
# GCPC 2.22.0 v1/vertex_notification_email/component.py as kfp 2.17.3 compiles it (written out, not derived)
GCPC_EMAIL_COMPONENT = {
    "executorLabel": f"exec-{EMAIL}",
    "inputDefinitions": {
        "parameters": {
            "pipeline_task_final_status": {"isOptional": True, "parameterType": "TASK_FINAL_STATUS"},
            "recipients": {"parameterType": "LIST"},
        }
    },
}
GCPC_EMAIL_EXECUTOR = {
    "container": {
        "image": "gcr.io/ml-pipeline/google-cloud-pipeline-components:2.22.0",
        "command": [
            "python3",
            "-u",
            "-m",
            "google_cloud_pipeline_components.container.v1.vertex_notification_email.executor",
        ],
        "args": ["--type", "VertexNotificationEmail", "--payload", ""],
    }
}
SECRET_URL_PART = "notify-secret-token-5f2c"


def _compile(tmp_path: Path, *overrides: str, multirun: bool = False) -> dict[str, Any]:
    cfg, sweep = load_with_sweep(list(overrides), CONFIGS, multirun=multirun)
    return compile_pipeline(cfg, tmp_path / "pipeline.yaml", sweep).spec


def _handler_tasks(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["components"]["comp-exit-handler-1"]["dag"]["tasks"]


def test_off_by_default_the_spec_is_unchanged(tmp_path: Path) -> None:
    plain = _compile(tmp_path)
    still_off = _compile(tmp_path, "notify.on=always", "notify.image=example.org/other:1")
    assert plain == still_off
    assert "comp-exit-handler-1" not in plain["components"]
    assert load_config([], CONFIGS).notify.emails == []


def test_emails_wrap_every_step_in_an_exit_handler_with_gcpcs_email_op(tmp_path: Path) -> None:
    spec = _compile(tmp_path, "notify.emails=[ops@example.com,ml@example.com]")
    root = spec["root"]["dag"]["tasks"]
    assert set(root) == {"exit-handler-1", EMAIL}
    assert set(_handler_tasks(spec)) == {"data-prepare", "train"}
    assert spec["components"][f"comp-{EMAIL}"] == GCPC_EMAIL_COMPONENT
    assert spec["deploymentSpec"]["executors"][f"exec-{EMAIL}"] == GCPC_EMAIL_EXECUTOR
    exit_task = root[EMAIL]
    assert exit_task["triggerPolicy"] == {"strategy": "ALL_UPSTREAM_TASKS_COMPLETED"}
    assert exit_task["dependentTasks"] == ["exit-handler-1"]
    assert exit_task["inputs"]["parameters"] == {
        "pipeline_task_final_status": {"taskFinalStatus": {"producerTask": "exit-handler-1"}},
        "recipients": {"runtimeValue": {"constant": ["ops@example.com", "ml@example.com"]}},
    }
    assert exit_task["cachingOptions"] == {}  # never cached: a cached exit task sends nothing


def test_a_sweep_with_release_steps_runs_inside_the_exit_handler(tmp_path: Path) -> None:
    spec = _compile(
        tmp_path,
        "notify.emails=[ops@example.com]",
        "register.enabled=true",
        "deploy.enabled=true",
        "params.learning_rate=0.01,0.02",
        multirun=True,
    )
    assert set(spec["root"]["dag"]["tasks"]) == {"exit-handler-1", EMAIL}
    inner = _handler_tasks(spec)
    assert {"data-prepare", "select-best", "register-model", "deploy-model"} <= set(inner)
    loop = next(t for t in inner.values() if "parameterIterator" in t)
    assert "train" in spec["components"][loop["componentRef"]["name"]]["dag"]["tasks"]


def test_the_webhook_url_comes_from_a_secret_never_from_the_spec(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFY_WEBHOOK_URL", f"https://hooks.example.com/{SECRET_URL_PART}")
    overrides = ["backend=kfp", "kfp.host=http://127.0.0.1:8888", "notify.webhook.secret=run-hooks"]
    spec = _compile(tmp_path, *overrides, "notify.webhook.key=slack")
    text = (tmp_path / "pipeline.yaml").read_text()
    assert SECRET_URL_PART not in text
    assert set(spec["root"]["dag"]["tasks"]) == {"exit-handler-1", "notify"}
    platform = list(yaml.safe_load_all(text))[1]
    assert platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]["exec-notify"] == {
        "secretAsEnv": [
            {"secretName": "run-hooks", "keyToEnv": [{"secretKey": "slack", "envVar": "NOTIFY_WEBHOOK_URL"}]}
        ]
    }
    container = spec["deploymentSpec"]["executors"]["exec-notify"]["container"]
    assert container["image"] == "python:3.12-slim"
    assert container["command"][:3] == ["python3", "-u", "-c"]
    assert "import urllib.request" in container["command"][3]
    assert "{{$.inputs.parameters['status']}}" in container["args"]
    # the run's UUID, resolved by the backend, and the UI address make the message's link (N6)
    notify_inputs = spec["root"]["dag"]["tasks"]["notify"]["inputs"]["parameters"]
    assert notify_inputs["run_id"]["runtimeValue"]["constant"] == "{{$.pipeline_job_uuid}}"
    args = container["args"]
    assert args[args.index("--run-id") + 1] == "{{$.inputs.parameters['run_id']}}"
    assert args[args.index("--ui") + 1] == "http://127.0.0.1:8888"


class FakeWebhook:
    """A loopback HTTP server that records each POST's JSON body and answers with ``statuses`` in turn."""

    def __init__(self, statuses: list[int]) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.statuses = statuses
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                hook.bodies.append(json.loads(self.rfile.read(length)))
                status = hook.statuses.pop(0) if hook.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/{SECRET_URL_PART}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[Callable[..., FakeWebhook]]:
    made: list[FakeWebhook] = []

    def make(*statuses: int) -> FakeWebhook:
        made.append(FakeWebhook(list(statuses)))
        return made[-1]

    yield make
    for hook in made:
        hook.close()


@pytest.fixture
def run_notified(sdk: Callable, tiny_data_prepare: Path, probe_train: Path, runs: Path) -> Callable:
    """`pipeline-sdk run` of the tiny pipeline with the webhook on; ``env`` reaches the steps."""

    def run(*args: str, env: dict[str, str] | None = None) -> Any:
        return sdk(
            "run",
            f"steps.data-prepare.component={tiny_data_prepare}",
            f"steps.train.component={probe_train}",
            f"local.root={runs}",
            "backend=kfp",
            "notify.webhook.secret=run-hooks",
            *args,
            env=env,
        )

    return run


def _no_url_in(run_dir: Path) -> None:
    for name in ("run.json", "pipeline.yaml"):
        assert SECRET_URL_PART not in (run_dir / name).read_text(), name


def test_a_succeeded_run_posts_its_final_state(run_notified: Callable, webhook: Callable) -> None:
    hook = webhook()
    ui = "kfp.host=http://kfp.example:8080/"
    result = run_notified("notify.on=always", ui, "--run-name", "ok", env={"NOTIFY_WEBHOOK_URL": hook.url})
    assert result.returncode == 0, result.stderr
    (body,) = hook.bodies
    assert body["state"] == "SUCCEEDED"
    assert body["pipeline"] == "hydra-fashion-mnist-training"
    assert body["run"] == "ok"
    assert body["console"] == "http://kfp.example:8080/#/runs/details/ok"  # the run ID is the run's name
    assert body["error"] is None
    assert "SUCCEEDED" in body["text"]
    record = result.run_json()
    assert record["state"] == "SUCCEEDED"
    assert record["tasks"]["notify"]["state"] == "SUCCEEDED"
    _no_url_in(result.run_dir)


def test_a_failed_run_posts_failed_with_the_error(
    run_notified: Callable, webhook: Callable, runs: Path
) -> None:
    hook = webhook()
    result = run_notified("--run-name", "broken", env={"NOTIFY_WEBHOOK_URL": hook.url, "PROBE_FAIL": "1"})
    assert result.returncode == 1
    (body,) = hook.bodies
    assert body["state"] == "FAILED"
    assert body["run"] == "broken"
    assert "train" in body["error"] and "exit code 3" in body["error"]
    record = json.loads((runs / "broken" / "run.json").read_text())
    assert record["state"] == "FAILED"
    assert record["tasks"]["notify"]["state"] == "SUCCEEDED"
    _no_url_in(runs / "broken")


def test_a_503_is_retried(run_notified: Callable, webhook: Callable) -> None:
    hook = webhook(503)
    result = run_notified("notify.on=always", env={"NOTIFY_WEBHOOK_URL": hook.url})
    assert result.returncode == 0, result.stderr
    assert [b["state"] for b in hook.bodies] == ["SUCCEEDED", "SUCCEEDED"]


def test_on_failure_a_succeeded_run_posts_nothing(run_notified: Callable, webhook: Callable) -> None:
    hook = webhook()
    result = run_notified(env={"NOTIFY_WEBHOOK_URL": hook.url})
    assert result.returncode == 0, result.stderr
    assert hook.bodies == []
    assert "notify: skipped: the run SUCCEEDED (notify.on=failure)" in result.stderr


def test_a_failed_notification_is_one_line_and_keeps_the_runs_state(
    run_notified: Callable, webhook: Callable
) -> None:
    hook = webhook(404)
    result = run_notified("notify.on=always", env={"NOTIFY_WEBHOOK_URL": hook.url})
    assert result.returncode == 0, result.stderr
    failed = [line for line in result.stderr.splitlines() if "404" in line]
    assert failed == [
        "[exit] notify: notification failed: notify: error: webhook POST failed: HTTP 404 Not Found"
    ]
    record = result.run_json()
    assert record["state"] == "SUCCEEDED"
    assert record["tasks"]["notify"]["state"] == "FAILED"
    assert SECRET_URL_PART not in result.stderr


def test_emails_alone_are_sent_by_vertex_only(
    sdk: Callable, tiny_data_prepare: Path, probe_train: Path, runs: Path
) -> None:
    result = sdk(
        "run",
        f"steps.data-prepare.component={tiny_data_prepare}",
        f"steps.train.component={probe_train}",
        f"local.root={runs}",
        "notify.emails=[ops@example.com]",
    )
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if "Vertex AI only" in line]
    assert notes == ["notify: note: email (notify.emails) is sent by Vertex AI only; a local run sends none"]
    assert result.run_json()["tasks"][EMAIL]["state"] == "SKIPPED"


def test_the_message_links_a_vertex_run_to_the_console() -> None:
    status = {
        "state": "FAILED",
        "pipelineJobResourceName": "projects/p1/locations/us-central1/pipelineJobs/run-7",
        "error": {"code": 9, "message": "train failed"},
    }
    body = notify_webhook.message(status, "demo")
    assert body["run"] == "run-7"
    assert body["console"] == (
        "https://console.cloud.google.com/vertex-ai/locations/us-central1/pipelines/runs/run-7?project=p1"
    )
    assert body["text"].startswith("Pipeline demo run run-7: FAILED: train failed (https://")


def test_the_message_links_a_kfp_run_to_its_page_by_the_runs_uuid() -> None:
    status = {"state": "SUCCEEDED", "pipelineJobResourceName": "hydra-fashion-mnist-training-x7k2p"}
    uuid = "5b1e2f0a-1c1d-4f5e-9a8b-0c1d2e3f4a5b"
    body = notify_webhook.message(status, "demo", uuid, "https://kfp.example.com")
    assert body["run"] == uuid
    assert body["console"] == f"https://kfp.example.com/#/runs/details/{uuid}"
    assert (
        body["text"] == f"Pipeline demo run {uuid}: SUCCEEDED (https://kfp.example.com/#/runs/details/{uuid})"
    )
    # no UI address, or a placeholder nothing resolved: no link, and the run named as before
    for run_id, ui in ((uuid, ""), ("{{$.pipeline_job_uuid}}", "https://kfp.example.com")):
        unlinked = notify_webhook.message(status, "demo", run_id, ui)
        assert unlinked["console"] is None and unlinked["run"] == "hydra-fashion-mnist-training-x7k2p"
