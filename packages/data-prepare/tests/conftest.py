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


# --- image folders (dataset=image_folder) ---------------------------------------------------------------

FASHION = Path("/usr/share/datasets/fashion-mnist")
#: Fashion-MNIST's classes as folder names; sorted, they are numbered differently from the IDX labels
CLASS_FOLDERS = [
    "T-shirt_top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip
SORTED_LABEL = np.argsort(np.argsort(CLASS_FOLDERS))  # fashion label -> label in the artifact
MIXED_SIZES = [(28, 28), (40, 32), (20, 36), (64, 48), (31, 17)]


def fashion_subset(split: str, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``count`` images and labels of the OS copy of Fashion-MNIST (seeded noise without it)."""
    prefix = "train" if split == "train" else "t10k"
    if (FASHION / f"{prefix}-images-idx3-ubyte.gz").exists():
        with gzip.open(FASHION / f"{prefix}-images-idx3-ubyte.gz") as f:
            images = np.frombuffer(f.read(16 + 784 * count)[16:], np.uint8).reshape(count, 28, 28)
        with gzip.open(FASHION / f"{prefix}-labels-idx1-ubyte.gz") as f:
            labels = np.frombuffer(f.read(8 + count)[8:], np.uint8)
        return images, labels
    rng = np.random.default_rng(1 if split == "train" else 2)
    return rng.integers(0, 256, (count, 28, 28), dtype=np.uint8), (np.arange(count) % 10).astype(np.uint8)


@dataclass
class ImageTree:
    """An ImageFolder written from Fashion-MNIST images, with what the artifact must hold, in its order."""

    root: Path
    paths: dict[str, list[str]]  # relative to root, in the artifact's order (class, then path)
    labels: dict[str, np.ndarray]  # artifact labels (index in the sorted class folders)
    sources: dict[str, np.ndarray]  # the Fashion-MNIST pixels each file was written from

    def csv(self, name: str = "labels.csv", *, split_column: bool = True, rows=None) -> Path:
        """A CSV list of this tree's images beside it (paths relative to the CSV's folder)."""
        lines = ["path,label,split" if split_column else "path,label"]
        for split, paths in self.paths.items():
            for path in paths:
                label = path.split("/")[1]
                lines.append(f"{path},{label},{split}" if split_column else f"{path},{label}")
        body = lines[1:] if rows is None else rows(lines[1:])
        target = self.root / name
        target.write_text("\n".join([lines[0], *body]) + "\n")
        return target


def write_image(path: Path, pixels: np.ndarray, index: int, *, mixed: bool) -> None:
    """One image file; ``mixed`` varies the size, mode and format with ``index``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    from PIL import Image

    im = Image.fromarray(pixels)
    if not mixed:
        im.save(path)
        return
    im = im.resize(MIXED_SIZES[index % len(MIXED_SIZES)], Image.Resampling.BICUBIC)
    kind = index % 4
    if kind == 0:
        im.convert("RGB").save(path, quality=90)  # .jpg
    elif kind == 1:
        rgba = im.convert("RGBA")
        rgba.putalpha(Image.fromarray(((pixels > 100) * 255).astype(np.uint8)).resize(rgba.size))
        rgba.save(path)  # .png with alpha
    elif kind == 2:
        im.convert("RGB").quantize(16).save(path)  # .png, palette
    else:
        im.convert("RGB").save(path, lossless=True)  # .webp


def write_tree(root: Path, train: int, test: int, *, mixed: bool = False) -> ImageTree:
    paths: dict[str, list[str]] = {}
    labels: dict[str, np.ndarray] = {}
    sources: dict[str, np.ndarray] = {}
    for split, count in (("train", train), ("test", test)):
        images, fashion = fashion_subset(split, count)
        items = []
        for i, (pixels, label) in enumerate(zip(images, fashion, strict=True)):
            ext = [".jpg", ".png", ".png", ".webp"][i % 4] if mixed else ".png"
            rel = f"{split}/{CLASS_FOLDERS[label]}/{i:05d}{ext}"
            write_image(root / rel, pixels, i, mixed=mixed)
            items.append((int(SORTED_LABEL[label]), rel, pixels))
        items.sort(key=lambda item: (item[0], item[1]))
        paths[split] = [rel for _, rel, _ in items]
        labels[split] = np.array([label for label, _, _ in items], dtype=np.uint8)
        sources[split] = np.stack([pixels for _, _, pixels in items])
    return ImageTree(root, paths, labels, sources)


@pytest.fixture(scope="session")
def grey_tree(tmp_path_factory) -> ImageTree:
    """600 train / 200 test 28x28 grey PNGs of real Fashion-MNIST, plus files that must be ignored."""
    tree = write_tree(tmp_path_factory.mktemp("grey") / "images", 600, 200)
    (tree.root / "train" / "README.txt").write_text("not an image")
    (tree.root / "train" / "Bag" / ".DS_Store").write_bytes(b"\0")
    (tree.root / "test" / "Coat" / "notes.md").write_text("not an image")
    (tree.root / "train" / ".cache").mkdir()
    return tree


@pytest.fixture(scope="session")
def mixed_tree(tmp_path_factory) -> ImageTree:
    """120 train / 40 test images: JPEG, PNG (RGBA, palette) and WebP at mixed sizes."""
    return write_tree(tmp_path_factory.mktemp("mixed") / "images", 120, 40, mixed=True)


@pytest.fixture
def small_tree(tmp_path) -> ImageTree:
    """A tree of its own (tests may spoil it): 40 train / 12 test grey PNGs."""
    return write_tree(tmp_path / "images", 40, 12)


def reference_pixels(path: Path, size: int, channels: int, resize: str, resample: str) -> np.ndarray:
    """The README's documented Pillow operations, written out independently of data_prepare."""
    from PIL import Image, ImageOps

    filters = {"bilinear": Image.Resampling.BILINEAR, "nearest": Image.Resampling.NEAREST}
    with Image.open(path) as opened:
        im = ImageOps.exif_transpose(opened).convert("L" if channels == 1 else "RGB")
    w, h = im.size
    if (w, h) != (size, size):
        if resize == "stretch":
            im = im.resize((size, size), filters[resample])
        elif resize == "crop":  # torchvision: Resize(size) then CenterCrop(size)
            nw, nh = (size, int(size * h / w)) if w <= h else (int(size * w / h), size)
            im = im.resize((nw, nh), filters[resample])
            left, top = int(round((nw - size) / 2.0)), int(round((nh - size) / 2.0))  # noqa: RUF046 (as torchvision)
            im = im.crop((left, top, left + size, top + size))
        else:  # pad
            nw, nh = (size, max(1, int(size * h / w))) if w >= h else (max(1, int(size * w / h)), size)
            canvas = Image.new(im.mode, (size, size), 0)
            canvas.paste(im.resize((nw, nh), filters[resample]), ((size - nw) // 2, (size - nh) // 2))
            im = canvas
    return np.asarray(im)


@pytest.fixture
def reference():
    return reference_pixels


@dataclass
class Artifact:
    directory: Path
    manifest: dict
    magic: dict[str, int]
    images: dict[str, np.ndarray]
    labels: dict[str, np.ndarray]

    def file_bytes(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted(self.directory.iterdir())}


def read_idx(path: Path) -> tuple[int, np.ndarray]:
    raw = gzip.decompress(path.read_bytes())  # one stream, however many gzip members
    magic = int.from_bytes(raw[:4], "big")
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(magic & 0xFF)]
    body = raw[4 + 4 * len(dims) :]
    assert len(body) == int(np.prod(dims)), (path, dims, len(body))
    return magic, np.frombuffer(body, np.uint8).reshape(dims)


def read_artifact(directory: Path) -> Artifact:
    assert sorted(p.name for p in directory.iterdir()) == sorted([*FILES, "manifest.json"])
    magic, images, labels = {}, {}, {}
    for name, (split, _) in FILES.items():
        found, array = read_idx(directory / name)
        magic[name] = found
        (images if "images" in name else labels)[split] = array
    return Artifact(directory, json.loads((directory / "manifest.json").read_text()), magic, images, labels)


@pytest.fixture
def artifact():
    return read_artifact


def huge_png(path: Path, side: int = 30000) -> Path:
    """A valid single-colour grey PNG of side x side pixels, about 1 MB, made without allocating its pixels:
    a deflate block of zero rows ends with a full flush (which resets the compressor), so every later block
    compresses to the same bytes; the Adler-32 of n zero bytes is (n mod 65521) << 16 | 1."""
    import struct
    import zlib

    rows = 1000
    assert side % rows == 0
    block = b"\0" * ((side + 1) * rows)  # each row: filter byte 0, then the pixels
    compressor = zlib.compressobj(9)
    head = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    middle = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.flush(zlib.Z_FINISH)[:-4]
    adler = (((side + 1) * side % 65521) << 16) | 1
    stream = head + middle * (side // rows - 1) + tail + adler.to_bytes(4, "big")

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", stream) + chunk(b"IEND", b"")
    )
    return path


@pytest.fixture(scope="session")
def bomb_png(tmp_path_factory) -> Path:
    return huge_png(tmp_path_factory.mktemp("bomb") / "huge.png")


# --- a loopback Cloud Storage JSON API -------------------------------------------------------------------


@dataclass
class FakeGcs:
    """Serves ``root/<bucket>/…`` as ``gs://<bucket>/…``: object listing (prefix, pageToken paging) and media
    download. Pages hold at most ``page_size`` objects whatever the client asks for, so paging is exercised."""

    url: str
    root: Path
    page_size: int = 50
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def fake_gcs(tmp_path, monkeypatch):
    state = FakeGcs("", tmp_path / "gcs")
    state.root.mkdir()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            state.requests.append(self.path)
            url = urllib.parse.urlparse(self.path)
            query = urllib.parse.parse_qs(url.query)
            parts = url.path.split("/")
            if url.path.startswith("/download/storage/v1/b/") and len(parts) >= 8:
                self._object(parts[5], urllib.parse.unquote("/".join(parts[7:])))
            elif url.path.startswith("/storage/v1/b/") and len(parts) == 6 and parts[5] == "o":
                self._list(parts[4], query.get("prefix", [""])[0], int(query.get("pageToken", ["0"])[0]))
            else:
                self._send(404, json.dumps({"error": {"code": 404, "message": "Not Found"}}).encode())

        def _list(self, bucket: str, prefix: str, start: int) -> None:
            base = state.root / bucket
            names = sorted(p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file())
            names = [n for n in names if n.startswith(prefix)]
            page = names[start : start + state.page_size]
            body = {
                "kind": "storage#objects",
                "items": [
                    {
                        "kind": "storage#object",
                        "bucket": bucket,
                        "name": name,
                        "size": str((base / name).stat().st_size),
                        "generation": str((base / name).stat().st_mtime_ns),
                    }
                    for name in page
                ],
            }
            if start + state.page_size < len(names):
                body["nextPageToken"] = str(start + state.page_size)
            self._send(200, json.dumps(body).encode(), "application/json")

        def _object(self, bucket: str, name: str) -> None:
            target = state.root / bucket / name
            if target.is_file():
                self._send(200, target.read_bytes())
            else:
                self._send(404, json.dumps({"error": {"code": 404, "message": "No such object"}}).encode())

        def _send(self, code: int, body: bytes, kind: str = "application/octet-stream") -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", state.url)
    yield state
    server.shutdown()
