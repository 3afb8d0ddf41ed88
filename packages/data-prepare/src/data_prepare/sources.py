"""Where the four IDX files come from: a local directory, HTTPS mirrors or Cloud Storage."""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from data_prepare.checksums import torchvision_class
from data_prepare.errors import PrepareError
from data_prepare.spec import IDX_FILES, DatasetSpec


class Source(Protocol):
    origin: str  # recorded in the manifest

    def read(self, name: str) -> bytes: ...


@dataclass
class LocalDirSource:
    directory: Path

    @property
    def origin(self) -> str:
        return str(self.directory)

    def read(self, name: str) -> bytes:
        try:
            return (self.directory / name).read_bytes()
        except FileNotFoundError:
            raise PrepareError(f"{self.directory} has no {name}") from None
        except OSError as e:
            raise PrepareError(f"cannot read {self.directory / name}: {e.strerror}") from None


@dataclass
class HttpSource:
    """Downloads each file from the first mirror that answers, with a progress bar on a terminal."""

    mirrors: Sequence[str]
    timeout_s: float
    progress: bool
    offline_hint: str
    origin: str = ""

    def read(self, name: str) -> bytes:
        failures = []
        for mirror in self.mirrors:
            url = mirror.rstrip("/") + "/" + name
            try:
                data = self._download(url)
            except (urllib.error.URLError, OSError, TimeoutError) as e:
                reason = getattr(e, "reason", None) or e
                failures.append(f"{url}: {reason}")
                continue
            self.origin = mirror
            return data
        raise PrepareError(f"cannot download {name} ({'; '.join(failures)}). {self.offline_hint}")

    def _download(self, url: str) -> bytes:
        request = urllib.request.Request(url, headers={"User-Agent": "data-prepare"})
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            chunks = []
            from tqdm import tqdm

            with tqdm(
                total=total, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1], disable=not self.progress
            ) as bar:
                while chunk := response.read(1 << 20):
                    chunks.append(chunk)
                    bar.update(len(chunk))
        return b"".join(chunks)


@dataclass
class GcsSource:
    """``gs://bucket/prefix`` through google-cloud-storage (honours ``STORAGE_EMULATOR_HOST``)."""

    uri: str
    timeout_s: float

    @property
    def origin(self) -> str:
        return self.uri

    def read(self, name: str) -> bytes:
        from data_prepare import gcs

        return gcs.Reader(self.uri, self.timeout_s).read(name)


def has_all_files(directory: Path) -> bool:
    return all((directory / name).is_file() for name in IDX_FILES)


def offline_hint(spec: DatasetSpec) -> str:
    ways = []
    if spec.system_package:
        ways.append(f"install the OS package (apt-get install {spec.system_package})")
    ways.append("point source= at a directory holding the four IDX files")
    return "Offline? " + ", or ".join(ways) + "."


def resolve(
    spec: DatasetSpec, source: str, *, mirrors: Sequence[str] | None, timeout_s: float, progress: str
) -> Source:
    """Turn the ``source`` setting into a :class:`Source`."""
    source = str(source)
    show_bar = sys.stderr.isatty() if progress == "auto" else str(progress).lower() == "true"
    if source == "auto":
        for directory in map(Path, spec.system_dirs):
            if has_all_files(directory):
                return LocalDirSource(directory)
        return HttpSource(upstream_mirrors(spec, mirrors), timeout_s, show_bar, offline_hint(spec))
    if source.startswith(("https://", "http://")):
        return HttpSource([source], timeout_s, show_bar, offline_hint(spec))
    if source.startswith("gs://"):
        fuse = Path("/gcs") / source.removeprefix("gs://")
        return LocalDirSource(fuse) if has_all_files(fuse) else GcsSource(source, timeout_s)
    if "://" in source:
        raise PrepareError(
            f"source={source!r}: use auto, an https:// base URL, a local directory or gs://bucket/prefix"
        )
    directory = Path(source).expanduser()
    if not directory.is_dir():
        raise PrepareError(f"source={source}: no such directory")
    missing = [name for name in IDX_FILES if not (directory / name).is_file()]
    if missing:
        raise PrepareError(f"source={source}: missing {', '.join(missing)}")
    return LocalDirSource(directory)


def upstream_mirrors(spec: DatasetSpec, mirrors: Sequence[str] | None) -> list[str]:
    if mirrors:
        return list(mirrors)
    dataset_class = torchvision_class(spec)
    if dataset_class is None:
        raise PrepareError(
            f"no local copy of {spec.name} and no mirror list (install torchvision for the official mirrors "
            f"or set download.mirrors). {offline_hint(spec)}"
        )
    return list(dataset_class.mirrors)
