"""Tiny datasets in the real IDX format and a runner for the ``data-prepare`` console script."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import subprocess
import sys
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

FILES = {
    "train-images-idx3-ubyte.gz": ("train", 2051),
    "train-labels-idx1-ubyte.gz": ("train", 2049),
    "t10k-images-idx3-ubyte.gz": ("test", 2051),
    "t10k-labels-idx1-ubyte.gz": ("test", 2049),
}


def idx_bytes(magic: int, array: np.ndarray) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


@dataclass
class TinyDataset:
    directory: Path
    counts: dict[str, int]

    def digest(self, name: str) -> str:
        return hashlib.sha256((self.directory / name).read_bytes()).hexdigest()

    def checksums_override(self) -> str:
        body = ", ".join(f'{name}: "sha256:{self.digest(name)}"' for name in FILES)
        return f"dataset.checksums={{{body}}}"

    def overrides(self, *, with_source: bool = True) -> list[str]:
        """Overrides that make data-prepare accept this dataset (from its local directory, by default)."""
        return [
            *([f"source={self.directory}"] if with_source else []),
            f"dataset.counts.train={self.counts['train']}",
            f"dataset.counts.test={self.counts['test']}",
            self.checksums_override(),
        ]

    def rewrite(self, name: str, data: bytes) -> None:
        (self.directory / name).write_bytes(data)


def make_tiny_dataset(directory: Path, train: int = 40, test: int = 10, seed: int = 0) -> TinyDataset:
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    counts = {"train": train, "test": test}
    for name, (split, magic) in FILES.items():
        n = counts[split]
        array = rng.integers(0, 256, (n, 28, 28)) if magic == 2051 else np.arange(n) % 10
        (directory / name).write_bytes(gzip.compress(idx_bytes(magic, array), mtime=0))
    return TinyDataset(directory, counts)


@pytest.fixture
def tiny(tmp_path: Path) -> TinyDataset:
    return make_tiny_dataset(tmp_path / "src")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("data-prepare", path=str(Path(sys.executable).parent)) or "data-prepare"
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=120)


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def idx():
    """Builders for IDX bytes, for tests that corrupt one file."""
    return idx_bytes


@dataclass
class FileServer:
    url: str
    requests: list[str] = field(default_factory=list)
    stall_after: int | None = None  # requests beyond this many never get an answer
    release: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def file_server(tiny):
    """Serves the tiny dataset as an HTTP mirror (``/mirror/``) and as Cloud Storage JSON API media downloads."""
    state = FileServer("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            state.requests.append(self.path)
            if state.stall_after is not None and len(state.requests) > state.stall_after:
                state.release.wait(60)
                return
            path = urllib.parse.urlparse(self.path).path
            if path.startswith("/download/storage/v1/b/bucket/o/"):
                name = urllib.parse.unquote(path.rsplit("/o/", 1)[1]).removeprefix("fashion/")
            else:
                name = path.removeprefix("/mirror/")
            target = tiny.directory / name
            if not target.is_file():
                body = json.dumps({"error": {"code": 404, "message": "No such object"}}).encode()
                self.send_response(404)
            else:
                body = target.read_bytes()
                self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    state.release.set()
    server.shutdown()
