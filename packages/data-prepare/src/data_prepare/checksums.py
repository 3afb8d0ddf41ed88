"""Trusted digests for the dataset files and the check against them.

A file is trusted when its digest equals one from a trusted reference, in this order:
the configured ``dataset.checksums`` (when set, the only reference), the MD5s that dpkg recorded when the OS
package was installed (Debian re-compresses the files, so they differ from upstream), and the upstream MD5s
that torchvision's dataset class lists.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from data_prepare.errors import PrepareError
from data_prepare.spec import IDX_FILES, DatasetSpec

DPKG_INFO = Path("/var/lib/dpkg/info")


@dataclass(frozen=True)
class Digest:
    """An expected digest and where it came from."""

    algorithm: str  # "md5" | "sha256"
    hexdigest: str
    reference: str  # e.g. "config", "dpkg:dataset-fashion-mnist", "torchvision.datasets.FashionMNIST"


def parse_digest(text: str, reference: str) -> Digest:
    algorithm, sep, hexdigest = str(text).partition(":")
    if not sep or algorithm not in ("md5", "sha256"):
        raise PrepareError(f"checksum {text!r} from {reference}: write it as md5:HEX or sha256:HEX")
    return Digest(algorithm, hexdigest.lower(), reference)


def configured(spec: DatasetSpec) -> dict[str, list[Digest]]:
    refs = {name: [parse_digest(value, "dataset.checksums")] for name, value in spec.checksums.items()}
    unknown = sorted(set(refs) - set(IDX_FILES))
    if unknown:
        raise PrepareError(f"dataset.checksums names unknown files {unknown}; expected {sorted(IDX_FILES)}")
    return refs


def dpkg_md5s(spec: DatasetSpec) -> Iterator[tuple[str, Digest]]:
    """MD5s from the OS package's dpkg record, for files under the dataset's system directories."""
    if not spec.system_package:
        return
    try:
        lines = (DPKG_INFO / f"{spec.system_package}.md5sums").read_text().splitlines()
    except OSError:
        return
    for line in lines:
        md5, _, rel = line.partition("  ")
        path = Path("/") / rel
        if path.name in IDX_FILES and any(path.parent == Path(d) for d in spec.system_dirs):
            yield path.name, Digest("md5", md5.strip(), f"dpkg:{spec.system_package}")


def torchvision_md5s(spec: DatasetSpec) -> Iterator[tuple[str, Digest]]:
    """Upstream MD5s as listed by ``torchvision.datasets.<class>.resources``."""
    dataset_class = torchvision_class(spec)
    if dataset_class is None:
        return
    for name, md5 in dataset_class.resources:
        yield name, Digest("md5", md5, f"torchvision.datasets.{dataset_class.__name__}")


def torchvision_class(spec: DatasetSpec):  # -> type | None; torchvision is imported only here
    if not spec.torchvision_class:
        return None
    try:
        import torchvision.datasets as datasets
    except ImportError:
        return None
    try:
        return getattr(datasets, spec.torchvision_class)
    except AttributeError:
        raise PrepareError(f"torchvision has no dataset class {spec.torchvision_class!r}") from None


class Verifier:
    """Checks files against the trusted references, consulting torchvision (a slow import) only when needed."""

    def __init__(self, spec: DatasetSpec) -> None:
        self.spec = spec
        self._cheap: dict[str, list[Digest]] | None = None
        self._upstream: dict[str, list[Digest]] | None = None

    def _references(self, name: str, *, upstream: bool) -> list[Digest]:
        if self._cheap is None:
            self._cheap = configured(self.spec) if self.spec.checksums else _group(dpkg_md5s(self.spec))
        refs = list(self._cheap.get(name, []))
        if upstream and not self.spec.checksums:
            if self._upstream is None:
                self._upstream = _group(torchvision_md5s(self.spec))
            refs += self._upstream.get(name, [])
        return refs

    def verify(self, name: str, digests: FileDigests, origin: str) -> Digest:
        """Return the reference that vouches for the file, or explain the mismatch."""
        for digest in self._references(name, upstream=False):
            if digests.get(digest.algorithm) == digest.hexdigest:
                return digest
        return verify(name, digests, self._references(name, upstream=True), origin)


def _group(pairs: Iterator[tuple[str, Digest]]) -> dict[str, list[Digest]]:
    grouped: dict[str, list[Digest]] = {}
    for name, digest in pairs:
        grouped.setdefault(name, []).append(digest)
    return grouped


@dataclass(frozen=True)
class FileDigests:
    md5: str
    sha256: str

    @classmethod
    def of(cls, data: bytes) -> FileDigests:
        return cls(hashlib.md5(data, usedforsecurity=False).hexdigest(), hashlib.sha256(data).hexdigest())

    def get(self, algorithm: str) -> str:
        return self.md5 if algorithm == "md5" else self.sha256


def checksums_override() -> str:
    """A template of the override that sets ``dataset.checksums``: Hydra cannot address one file's key, its name
    holds dots."""
    body = ", ".join(f"{name}: sha256:HEX" for name in IDX_FILES)
    return f"'dataset.checksums={{{body}}}'"


def verify(name: str, digests: FileDigests, expected: list[Digest], origin: str) -> Digest:
    """Return the reference that vouches for the file, or explain the mismatch."""
    if not expected:
        raise PrepareError(
            f"{name}: no trusted checksum is known for this file (install torchvision, or give every file's "
            f"digest: {checksums_override()})"
        )
    for digest in expected:
        if digests.get(digest.algorithm) == digest.hexdigest:
            return digest
    wanted = "; ".join(f"{d.algorithm} {d.hexdigest} ({d.reference})" for d in expected)
    got = ", ".join(sorted({f"{d.algorithm} {digests.get(d.algorithm)}" for d in expected}))
    raise PrepareError(f"checksum mismatch for {name} from {origin}: got {got}, expected {wanted}")
