"""A real trained model, the real console script on a free port, real HTTP, and a loopback fake of Cloud
Storage's JSON API (google-cloud-storage talks to it through ``STORAGE_EMULATOR_HOST``)."""

from __future__ import annotations

import http.client
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import numpy as np
import pytest

SERVE = shutil.which("serve", path=str(Path(sys.executable).parent)) or "serve"
FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
AIP_VARIABLES = ("AIP_STORAGE_URI", "AIP_HTTP_PORT", "AIP_HEALTH_ROUTE", "AIP_PREDICT_ROUTE")
LISTENING = re.compile(r"^serve: listening on http://[^:]+:(\d+) ")
START_TIMEOUT_S = 120


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Server:
    """A running ``serve`` process and the lines it printed."""

    process: subprocess.Popen[str]
    port: int
    stderr_path: Path
    lines: queue.Queue[str] = field(default_factory=queue.Queue)

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Reply:
        connection = self.connect()
        try:
            return send(connection, method, path, body, headers)
        finally:
            connection.close()

    def predict(self, instances: list[Any], path: str = "/predict") -> Reply:
        return self.request("POST", path, json.dumps({"instances": instances}).encode())

    def wait_for_line(self, prefix: str, timeout: float = START_TIMEOUT_S) -> str:
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"serve printed no {prefix!r} line; stderr: {self.stderr()}") from None
            if line is None:
                raise AssertionError(f"serve exited before {prefix!r}; stderr: {self.stderr()}")
            if line.startswith(prefix):
                return line

    def stderr(self) -> str:
        return self.stderr_path.read_text() if self.stderr_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)


def send(
    connection: http.client.HTTPConnection,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """One request on ``connection`` (kept open for the next)."""
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    connection.request(method, path, body=body, headers=all_headers)
    response = connection.getresponse()
    return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())


def _default_sigint() -> None:
    # a child started from a non-interactive shell may inherit SIGINT ignored; Ctrl-C tests need it live
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _pump(stream: Any, lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))
    lines.put(None)


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (*AIP_VARIABLES, "HYDRA_FULL_ERROR")}
    env.update(extra)
    return env


def launch(args: list[str], tmp: Path, env: dict[str, str] | None = None, wait_ready: bool = True) -> Server:
    """Start ``serve ARGS`` and wait for its listening line (and, with ``wait_ready``, the ready line)."""
    stderr_path = tmp / f"serve-{len(list(tmp.glob('serve-*.err')))}.err"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [SERVE, *args],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=env or base_env(),
            cwd=tmp,
            preexec_fn=_default_sigint,
        )
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
    server = Server(process, 0, stderr_path, lines)  # type: ignore[arg-type]
    match = LISTENING.match(server.wait_for_line("serve: listening on "))
    assert match, "unexpected listening line"
    server.port = int(match.group(1))
    if wait_ready:
        server.wait_for_line("serve: ready: ")
    return server


def run_serve(
    args: list[str], tmp: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``serve ARGS`` to completion (for start-up failures)."""
    return subprocess.run(
        [SERVE, *args],
        capture_output=True,
        text=True,
        env=env or base_env(),
        cwd=tmp,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="session")
def fashion_test_set() -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST's 10,000 test images (uint8, N x 28 x 28) and labels."""
    if not (FASHION_MNIST / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip("Fashion-MNIST not installed (Debian package dataset-fashion-mnist)")
    from trainer import load_idx_dataset

    dataset = load_idx_dataset(FASHION_MNIST)
    return dataset.test_images, dataset.test_labels


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory, fashion_test_set: Any) -> Path:
    """One epoch of ``model=mlp`` on the real Fashion-MNIST (a few seconds): the trainer's output directory."""
    from trainer import compose_config, train

    out = tmp_path_factory.mktemp("trained") / "model"
    overrides = [
        f"data.data_dir={FASHION_MNIST}",
        f"paths.output_dir={out}",
        "model=mlp",
        "trainer.max_epochs=1",
        "logger=none",
        "callbacks=none",
        "progress=none",
    ]
    train(compose_config(overrides))
    return out


@pytest.fixture(scope="session")
def server(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``serve model_uri=<model_dir> port=0 device=cpu``, shared by the session's tests."""
    running = launch([f"model_uri={model_dir}", "port=0", "device=cpu"], tmp_path_factory.mktemp("serve"))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def predictor(model_dir: Path) -> Any:
    from trainer import load_predictor

    return load_predictor(model_dir, "cpu")


@pytest.fixture
def launch_serve(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start more servers (stopped at the end of the test)."""
    started: list[Server] = []

    def start(args: list[str], env: dict[str, str] | None = None, wait_ready: bool = True) -> Server:
        started.append(launch(args, tmp_path, env, wait_ready))
        return started[-1]

    yield start
    for running in started:
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait(timeout=30)


@pytest.fixture
def serve_once(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return run_serve(args, tmp_path, env)

    return run


class _FakeGcsHandler(BaseHTTPRequestHandler):
    """The two GETs google-cloud-storage makes to download: bucket metadata and ``alt=media`` objects."""

    server: _FakeGcs
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        self.server.requests.append(self.path)
        parts = url.path.split("/")
        # /download/storage/v1/b/BUCKET/o/OBJECT?alt=media  or  /storage/v1/b/BUCKET
        if parts[1:5] == ["download", "storage", "v1", "b"] and len(parts) == 8 and parts[6] == "o":
            data = self.server.objects.get((parts[5], unquote(parts[7])))
            if data is not None:
                self._reply(200, data, "application/octet-stream")
                return
        elif parts[1:4] == ["storage", "v1", "b"] and len(parts) == 5 and parts[4] in self.server.buckets:
            self._reply(200, json.dumps({"name": parts[4]}).encode())
            return
        self._reply(404, b'{"error": {"code": 404, "message": "No such object"}}')


class _FakeGcs(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _FakeGcsHandler)
        self.objects: dict[tuple[str, str], bytes] = {}
        self.requests: list[str] = []

    @property
    def buckets(self) -> set[str]:
        return {bucket for bucket, _ in self.objects}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def put_dir(self, bucket: str, prefix: str, directory: Path, names: tuple[str, ...]) -> None:
        for name in names:
            self.objects[(bucket, f"{prefix}/{name}")] = (directory / name).read_bytes()


@pytest.fixture
def fake_gcs() -> Iterator[_FakeGcs]:
    pytest.importorskip("google.cloud.storage")
    fake = _FakeGcs()
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    yield fake
    fake.shutdown()
    fake.server_close()


def png_bytes(pixels: np.ndarray, mode: str | None = None) -> bytes:
    """``pixels`` (H x W uint8) as a PNG, optionally converted to another Pillow mode first."""
    import io

    from PIL import Image

    image = Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8))  # 2-D uint8: mode L
    if mode:
        image = image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def to_png() -> Callable[..., bytes]:
    return png_bytes


@pytest.fixture
def http_send() -> Callable[..., Reply]:
    """``send(connection, method, path, body=None, headers=None)``: one request on a kept-open connection."""
    return send


@pytest.fixture
def serve_env() -> Callable[..., dict[str, str]]:
    """``serve_env(**VARS)``: this environment without Vertex AI's AIP_* variables, plus ``VARS``."""
    return base_env
