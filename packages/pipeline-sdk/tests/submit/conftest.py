"""Loopback fakes of the Google APIs (OAuth token endpoint, Vertex AI, Cloud Storage, a container
registry) and of the Kubeflow Pipelines API, each a real HTTP server on 127.0.0.1 that records what it
was sent and answers like the real service."""

# No `from __future__ import annotations`: kfp reads the test pipeline's annotations as types.
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

REPO_ROOT = Path(__file__).resolve().parents[4]
PROJECT = "demo-project"
REGION = "us-central1"
SA_EMAIL = "submitter@demo-project.iam.gserviceaccount.com"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class Reply:
    status: int
    body: Any = None
    delay: float = 0.0


class FakeServer:
    """A ThreadingHTTPServer whose routes are (method, regex) -> handler(match, Recorded) -> Reply."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.closing = threading.Event()
        self.routes: list[tuple[str, re.Pattern[str], Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                split = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                content_type = self.headers.get("Content-Type", "")
                if "json" in content_type and raw:
                    body: Any = json.loads(raw)
                elif "x-www-form-urlencoded" in content_type:
                    body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                else:
                    body = raw
                headers = {k.lower(): v for k, v in self.headers.items()}
                rec = Recorded(self.command, split.path, parse_qs(split.query), headers, body)
                fake.requests.append(rec)
                reply = fake.dispatch(rec)
                if reply.delay and fake.closing.wait(reply.delay):
                    self.close_connection = True  # the test is over: drop the request, answer nothing
                    return
                if isinstance(reply.body, str):
                    payload, content = reply.body.encode(), "text/plain"
                else:
                    payload = b"" if reply.body is None else json.dumps(reply.body).encode()
                    content = "application/json"
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", content)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
                    pass

            do_GET = do_POST = do_HEAD = do_DELETE = do_PATCH = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def route(self, method: str, pattern: str, handler: Any) -> None:
        self.routes.append((method, re.compile(pattern), handler))

    def dispatch(self, rec: Recorded) -> Reply:
        for method, pattern, handler in self.routes:
            match = pattern.fullmatch(rec.path)
            if match and method == rec.method:
                return handler(match, rec)
        return Reply(
            404,
            {"error": {"code": 404, "message": f"no route {rec.method} {rec.path}", "status": "NOT_FOUND"}},
        )

    @staticmethod
    def reply(status: int, body: Any = None, delay: float = 0.0) -> Reply:
        return Reply(status, body, delay)

    @staticmethod
    def error(code: int, status: str, message: str, details: list[Any] | None = None) -> Reply:
        """An error body as Google APIs send it."""
        return google_error(code, status, message, details)

    def sent(self, method: str, path_regex: str) -> list[Recorded]:
        return [
            r for r in self.requests if re.fullmatch(method, r.method) and re.fullmatch(path_regex, r.path)
        ]

    def __enter__(self) -> "FakeServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def google_error(code: int, status: str, message: str, details: list[Any] | None = None) -> Reply:
    return Reply(
        code, {"error": {"code": code, "message": message, "status": status, "details": details or []}}
    )


class FakeGoogle(FakeServer):
    """OAuth2 token endpoint + Vertex AI PipelineService (v1 REST) + Cloud Storage bucket metadata
    + a container registry's manifest endpoint, all on one port."""

    def __init__(self, public_key_pem: bytes) -> None:
        super().__init__()
        self.public_key_pem = public_key_pem
        self.issued_tokens: set[str] = set()
        self.jobs: dict[str, dict[str, Any]] = {}
        self.states: list[str] = [
            "PIPELINE_STATE_PENDING",
            "PIPELINE_STATE_RUNNING",
            "PIPELINE_STATE_SUCCEEDED",
        ]
        self.job_error: dict[str, Any] | None = None
        self.create_reply: Reply | None = None
        self.token_reply: Reply | None = None
        self.buckets: dict[str, Reply] = {}
        self.manifests: set[str] = set()
        self.contexts: dict[str, dict[str, Any]] = {}
        self.templates: dict[str, dict[str, Any]] = {}
        self.poll_failures: list[Reply] = []  # answered, in order, before polls see the job again
        self.upload_reply: Reply | None = None
        self.context_children: dict[str, list[str]] = {}
        self.route("POST", r"/token", self._token)
        self.route("POST", r"/kfp/([^/]+)/([^/]+)", self._upload_template)
        self.route(
            "GET",
            r"/v1/(projects/[^/]+/locations/[^/]+/metadataStores/default/contexts/[^/:]+)",
            self._get_context,
        )
        self.route(
            "POST",
            r"/v1/(projects/[^/]+/locations/[^/]+/metadataStores/default)/contexts",
            self._create_context,
        )
        self.route(
            "POST",
            r"/v1/(projects/[^/]+/locations/[^/]+/metadataStores/default/contexts/[^/:]+)"
            r":addContextChildren",
            self._add_children,
        )
        self.route("POST", r"/v1/projects/([^/]+)/locations/([^/]+)/pipelineJobs", self._create)
        self.route("GET", r"/v1/(projects/[^/]+/locations/[^/]+/pipelineJobs/[^/]+)", self._get)
        self.route("GET", r"/storage/v1/b/([^/]+)", self._bucket)
        self.route("HEAD", r"/v2/(.+)/manifests/([^/]+)", self._manifest)
        self.route("GET", r"/v2/(.+)/manifests/([^/]+)", self._manifest)

    def _token(self, match: re.Match[str], rec: Recorded) -> Reply:
        from google.auth import jwt

        if self.token_reply is not None:
            return self.token_reply
        try:
            claims = jwt.decode(
                rec.body["assertion"],
                certs=self.public_key_pem,
                audience="https://oauth2.googleapis.com/token",
            )
        except Exception as e:
            return Reply(400, {"error": "invalid_grant", "error_description": f"Invalid JWT: {e}"})
        token = f"ya29.fake-{len(self.issued_tokens)}-{claims['iss'].split('@')[0]}"
        self.issued_tokens.add(token)
        return Reply(200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"})

    def authorized(self, rec: Recorded) -> bool:
        """A token this server issued, or a self-signed JWT made with the test key."""
        from google.auth import jwt

        token = rec.headers.get("authorization", "").removeprefix("Bearer ")
        if token in self.issued_tokens:
            return True
        try:
            jwt.decode(token, certs=self.public_key_pem, verify=True, audience=None)
        except Exception:
            return False
        return True

    def _create(self, match: re.Match[str], rec: Recorded) -> Reply:
        if not self.authorized(rec):
            return google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        if self.create_reply is not None:
            return self.create_reply
        job_id = rec.query["pipelineJobId"][0]
        name = f"projects/{match[1]}/locations/{match[2]}/pipelineJobs/{job_id}"
        job = {
            **rec.body,
            "name": name,
            "state": "PIPELINE_STATE_PENDING",
            "createTime": "2026-11-26T05:00:00Z",
        }
        self.jobs[name] = {"job": job, "polls": 0}
        return Reply(200, job)

    def _get(self, match: re.Match[str], rec: Recorded) -> Reply:
        if not self.authorized(rec):
            return google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        entry = self.jobs.get(match[1])
        if entry is None:
            return google_error(404, "NOT_FOUND", f"PipelineJob {match[1]} not found.")
        if self.poll_failures:
            return self.poll_failures.pop(0)
        state = self.states[min(entry["polls"], len(self.states) - 1)]
        entry["polls"] += 1
        job = {**entry["job"], "state": state}
        if state != "PIPELINE_STATE_PENDING":  # Vertex creates the run's metadata context once it starts
            store = match[1].split("/pipelineJobs/")[0] + "/metadataStores/default"
            job["jobDetail"] = {
                "pipelineRunContext": {
                    "name": f"{store}/contexts/{match[1].rsplit('/', 1)[1]}",
                    "schemaTitle": "system.PipelineRun",
                }
            }
        if state in ("PIPELINE_STATE_FAILED", "PIPELINE_STATE_CANCELLED") and self.job_error:
            job["error"] = self.job_error
        return Reply(200, job)

    def _upload_template(self, match: re.Match[str], rec: Recorded) -> Reply:
        """Artifact Registry's KFP upload: multipart ``content`` (+ ``tags``), answers ``NAME/sha256:...``."""
        import hashlib
        from email.parser import BytesParser

        import yaml

        if not self.authorized(rec):
            return Reply(401, "Request is missing required authentication credential.")
        if self.upload_reply is not None:
            return self.upload_reply
        message = BytesParser().parsebytes(
            f"Content-Type: {rec.headers['content-type']}\r\n\r\n".encode() + rec.body
        )
        fields = {
            part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
            for part in message.get_payload()
        }
        name = yaml.safe_load(fields["content"])["pipelineInfo"]["name"]
        version = "sha256:" + hashlib.sha256(fields["content"]).hexdigest()
        self.templates[f"{name}/{version}"] = {
            "tags": fields.get("tags", b"").decode().split(","),
            "content": fields["content"],
        }
        return Reply(200, f"{name}/{version}")

    def _get_context(self, match: re.Match[str], rec: Recorded) -> Reply:
        if not self.authorized(rec):
            return google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        if match[1] in self.contexts:
            return Reply(200, self.contexts[match[1]])
        return google_error(404, "NOT_FOUND", f"Context {match[1]} not found.")

    def _create_context(self, match: re.Match[str], rec: Recorded) -> Reply:
        name = f"{match[1]}/contexts/{rec.query['contextId'][0]}"
        self.contexts[name] = {**rec.body, "name": name}
        return Reply(200, self.contexts[name])

    def _add_children(self, match: re.Match[str], rec: Recorded) -> Reply:
        if match[1] not in self.contexts:
            return google_error(404, "NOT_FOUND", f"Context {match[1]} not found.")
        self.context_children.setdefault(match[1], []).extend(rec.body["childContexts"])
        return Reply(200, {})

    def _bucket(self, match: re.Match[str], rec: Recorded) -> Reply:
        reply = self.buckets.get(match[1])
        if reply is not None:
            return reply
        return google_error(404, "NOT_FOUND", "The specified bucket does not exist.")

    def _manifest(self, match: re.Match[str], rec: Recorded) -> Reply:
        if f"{match[1]}:{match[2]}" in self.manifests:
            return Reply(200, {"schemaVersion": 2})
        return Reply(404, {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]})


_PREPARE = """
name: data-prepare
inputs:
- {name: dataset_name, type: String, default: fashion_mnist}
outputs:
- {name: dataset, type: Dataset}
implementation:
  container:
    image: IMAGE
    command: [data-prepare]
    args: ["dataset={{$.inputs.parameters['dataset_name']}}", "paths.output_dir={{$.outputs.artifacts['dataset'].path}}"]
"""
_TRAIN = """
name: train
inputs:
- {name: dataset, type: Dataset}
- {name: epochs, type: Integer, default: '5'}
- {name: learning_rate, type: Float, default: '0.002'}
outputs:
- {name: model, type: Model}
implementation:
  container:
    image: IMAGE
    command: [trainer]
    args: ["data.data_dir={{$.inputs.artifacts['dataset'].path}}", "trainer.max_epochs={{$.inputs.parameters['epochs']}}",
           "model.optimizer.lr={{$.inputs.parameters['learning_rate']}}", "paths.output_dir={{$.outputs.artifacts['model'].path}}"]
"""


@dataclass
class CompiledForTest:
    """The fields of pipeline_sdk.compiler.CompiledPipeline that submit reads."""

    path: Path
    spec: dict[str, Any]
    parameter_values: dict[str, Any]
    images: dict[str, str]


def compile_with_kfp(output: Path, registry: str, accelerator: str = "NVIDIA_L4") -> CompiledForTest:
    """Compile a two-step Hydra-style pipeline with kfp directly (independent of compile_pipeline)."""
    import yaml
    from kfp import compiler, components, dsl

    images = {
        "hydra-vertex-data-prepare": f"{registry}/hydra-vertex-data-prepare:0.1.0",
        "hydra-vertex-trainer": f"{registry}/hydra-vertex-trainer:0.1.0",
    }
    prepare = components.load_component_from_text(
        _PREPARE.replace("IMAGE", images["hydra-vertex-data-prepare"])
    )
    train = components.load_component_from_text(_TRAIN.replace("IMAGE", images["hydra-vertex-trainer"]))

    @dsl.pipeline(name="hydra-fashion-mnist-training")
    def pipeline(dataset: str = "fashion_mnist", epochs: int = 5, learning_rate: float = 0.002):
        prepared = prepare(dataset_name=dataset)
        task = train(dataset=prepared.outputs["dataset"], epochs=epochs, learning_rate=learning_rate)
        task.set_accelerator_type(accelerator).set_accelerator_limit(1).set_cpu_limit("8").set_memory_limit(
            "32G"
        )

    compiler.Compiler().compile(pipeline, str(output))
    spec = yaml.safe_load(output.read_text())
    return CompiledForTest(
        output, spec, {"dataset": "fashion_mnist", "epochs": 2, "learning_rate": 0.01}, images
    )


def tasks_cached_by_the_service(spec: dict[str, Any]) -> dict[str, bool]:
    """``{"<dag>/<task>": cached}`` for a pipeline spec as Vertex AI and the KFP backend run it: each task by
    its own ``cachingOptions.enableCache`` (absent = false, proto3), with no run-level switch left once the
    request is built (KFP backend driver/cache.go; docs/vertex-behaviour.md, caching)."""
    dags = {"root": spec["root"].get("dag", {})}
    dags.update({name: c["dag"] for name, c in spec.get("components", {}).items() if "dag" in c})
    return {
        f"{dag_name}/{task_name}": bool(task.get("cachingOptions", {}).get("enableCache", False))
        for dag_name, dag in dags.items()
        for task_name, task in dag.get("tasks", {}).items()
        if "componentRef" in task and "parameterIterator" not in task and "artifactIterator" not in task
    }


@pytest.fixture
def cached_tasks():
    """``cached_tasks(spec)``: which tasks the service would serve from its cache (see above)."""
    return tasks_cached_by_the_service


@pytest.fixture
def compile_test_pipeline():
    """``compile_test_pipeline(output, registry, accelerator="NVIDIA_L4")`` -> CompiledForTest."""
    return compile_with_kfp


@pytest.fixture(scope="session")
def compiled_test_pipeline(tmp_path_factory: pytest.TempPathFactory) -> CompiledForTest:
    """The test pipeline compiled once per session (train on NVIDIA_L4, images in a pkg.dev registry)."""
    output = tmp_path_factory.mktemp("compiled") / "pipeline.yaml"
    return compile_with_kfp(output, registry="europe-docker.pkg.dev/demo-project/ml")


@dataclass
class ServiceAccountKey:
    path: Path
    public_pem: bytes
    email: str = SA_EMAIL
    extra: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="session")
def rsa_key() -> tuple[bytes, bytes]:
    """A fresh RSA key pair (private PKCS8 PEM, public PEM): the service account's key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


@pytest.fixture(scope="session")
def new_fake_google(rsa_key: tuple[bytes, bytes]) -> Any:
    """``new_fake_google()`` -> an unstarted FakeGoogle (use it as a context manager)."""
    return lambda: FakeGoogle(rsa_key[1])


@pytest.fixture
def fake_google(rsa_key: tuple[bytes, bytes]) -> Iterator[FakeGoogle]:
    with FakeGoogle(rsa_key[1]) as server:
        yield server


def write_key_file(path: Path, private_pem: bytes, token_uri: str) -> Path:
    """A service-account JSON key as the IAM console issues it, with its token endpoint at ``token_uri``."""
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": PROJECT,
                "private_key_id": "test-key-1",
                "private_key": private_pem.decode(),
                "client_email": SA_EMAIL,
                "client_id": "1234567890",
                "token_uri": token_uri,
            }
        )
    )
    return path


@pytest.fixture
def adc(
    tmp_path: Path, fake_google: FakeGoogle, rsa_key: tuple[bytes, bytes], monkeypatch: pytest.MonkeyPatch
) -> ServiceAccountKey:
    """Application Default Credentials: a real service-account key file whose token_uri is the fake."""
    key_file = tmp_path / "sa-key.json"
    key_file.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": PROJECT,
                "private_key_id": "test-key-1",
                "private_key": rsa_key[0].decode(),
                "client_email": SA_EMAIL,
                "client_id": "1234567890",
                "token_uri": f"{fake_google.url}/token",
            }
        )
    )
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", fake_google.url)
    return ServiceAccountKey(key_file, rsa_key[1])


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real credentials, no metadata-server probe, no gcloud config from the machine running tests."""
    for var in (
        "GOOGLE_APPLICATION_CREDENTIALS",
        "GOOGLE_CLOUD_PROJECT",
        "STORAGE_EMULATOR_HOST",
        "KF_PIPELINES_ENDPOINT",
        "HYDRA_FULL_ERROR",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    monkeypatch.setenv("PIPELINE_SDK_CONFIG_DIR", str(REPO_ROOT / "configs"))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud-config"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


class FakeKfp(FakeServer):
    """The Kubeflow Pipelines API (v2beta1 REST) as kfp.Client uses it: healthz, experiments, runs."""

    def __init__(self) -> None:
        super().__init__()
        self.experiments: list[dict[str, Any]] = [{"experiment_id": "exp-default", "display_name": "Default"}]
        self.runs: dict[str, dict[str, Any]] = {}
        self.states: list[str] = ["PENDING", "RUNNING", "SUCCEEDED"]
        self.run_error: dict[str, Any] | None = None
        self.create_reply: Reply | None = None
        self.route("GET", r"/apis/v2beta1/healthz", lambda m, r: Reply(200, {"multi_user": False}))
        self.route("GET", r"/apis/v2beta1/experiments", self._list_experiments)
        self.route("POST", r"/apis/v2beta1/experiments", self._create_experiment)
        self.route("POST", r"/apis/v2beta1/runs", self._create_run)
        self.route("GET", r"/apis/v2beta1/runs/([^/]+)", self._get_run)

    def _list_experiments(self, match: re.Match[str], rec: Recorded) -> Reply:
        predicate = json.loads(rec.query["filter"][0])["predicates"][0]
        wanted = predicate.get("string_value") or predicate.get("stringValue")
        found = [e for e in self.experiments if e["display_name"] == wanted]
        return Reply(200, {"experiments": found, "total_size": len(found)} if found else {})

    def _create_experiment(self, match: re.Match[str], rec: Recorded) -> Reply:
        experiment = {
            "experiment_id": f"exp-{len(self.experiments)}",
            "display_name": rec.body["display_name"],
        }
        self.experiments.append(experiment)
        return Reply(200, experiment)

    def _create_run(self, match: re.Match[str], rec: Recorded) -> Reply:
        if self.create_reply is not None:
            return self.create_reply
        run_id = f"run-{len(self.runs) + 1}"
        run = {**rec.body, "run_id": run_id, "state": "PENDING", "created_at": "2026-11-26T05:00:00Z"}
        self.runs[run_id] = {"run": run, "polls": 0}
        return Reply(200, run)

    def _get_run(self, match: re.Match[str], rec: Recorded) -> Reply:
        entry = self.runs.get(match[1])
        if entry is None:
            return Reply(
                404, {"error": f"Run {match[1]} not found", "code": 5, "message": f"Run {match[1]} not found"}
            )
        state = self.states[min(entry["polls"], len(self.states) - 1)]
        entry["polls"] += 1
        run = {**entry["run"], "state": state}
        if state in ("FAILED", "CANCELED") and self.run_error:
            run["error"] = self.run_error
        return Reply(200, run)


@pytest.fixture
def fake_kfp() -> Iterator[FakeKfp]:
    with FakeKfp() as server:
        yield server


@dataclass
class Completed:
    code: int
    stdout: str
    stderr: str


def hermetic_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The environment for a CLI subprocess: no credentials or gcloud config from this machine."""
    import os

    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GOOGLE_", "STORAGE_EMULATOR", "KF_PIPELINES", "HYDRA_", "PIPELINE_SDK_"))
    }
    env.update(
        NO_GCE_CHECK="True",
        HOME=str(tmp / "home"),
        CLOUDSDK_CONFIG=str(tmp / "gcloud"),
        PIPELINE_SDK_CONFIG_DIR=str(REPO_ROOT / "configs"),
        **extra,
    )
    return env


@dataclass
class CliHarness:
    """Starts the installed ``pipeline-sdk`` console script; ``start`` returns at once so several runs
    (each importing aiplatform, ~3 s of CPU) overlap; ``result`` waits for one."""

    tmp: Path
    private_pem: bytes

    def start(self, *args: str, fake: FakeGoogle | None = None, with_adc: bool = False) -> Any:
        import signal
        import subprocess
        import sys
        import tempfile

        tmp = Path(tempfile.mkdtemp(dir=self.tmp))
        extra = {}
        if fake is not None:
            extra["STORAGE_EMULATOR_HOST"] = fake.url
            if with_adc:
                key = write_key_file(tmp / "sa-key.json", self.private_pem, f"{fake.url}/token")
                extra["GOOGLE_APPLICATION_CREDENTIALS"] = str(key)
        script = Path(sys.executable).with_name("pipeline-sdk")
        return subprocess.Popen(
            [str(script), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=hermetic_env(tmp, **extra),
            cwd=REPO_ROOT,
            # Ctrl-C as a terminal sends it: a test runner started in the background may ignore SIGINT,
            # and its children would inherit that.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )

    @staticmethod
    def result(process: Any, timeout: float = 120) -> Completed:
        stdout, stderr = process.communicate(timeout=timeout)
        return Completed(process.returncode, stdout, stderr)


@pytest.fixture(scope="session")
def cli(tmp_path_factory: pytest.TempPathFactory, rsa_key: tuple[bytes, bytes]) -> CliHarness:
    return CliHarness(tmp_path_factory.mktemp("cli"), rsa_key[0])
