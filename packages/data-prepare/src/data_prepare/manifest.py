"""The dataset artifact's ``manifest.json``: what is in the directory and how it was verified."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from data_prepare.__about__ import __version__
from data_prepare.errors import PrepareError
from data_prepare.spec import IDX_FILES, DatasetSpec

MANIFEST = "manifest.json"
FORMAT = "idx-dataset/v1"


def dumps(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2) + "\n").encode()


#: Stands in for the manifest while files are copied into place, so an interrupted copy is known to be ours.
PENDING = dumps({"format": FORMAT, "pending": True})


def build(spec: DatasetSpec, files: dict[str, dict[str, Any]], origin: str) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "dataset": spec.name,
        "num_classes": spec.num_classes,
        "class_names": list(spec.class_names),
        "image_shape": list(spec.image_shape),
        "channels": 1,
        "counts": dict(spec.counts),
        "files": {name: files[name] for name in IDX_FILES},
        "source": origin,
        "producer": producer(),
    }


def producer() -> dict[str, str]:
    return {"name": "data-prepare", "version": __version__}


def read(directory: Path) -> dict[str, Any] | None:
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) and manifest.get("format") == FORMAT else None


def refuse_foreign(directory: Path) -> None:
    """Refuse to publish over a non-empty ``directory`` that holds no dataset manifest (not ours to replace)."""
    if directory.is_dir() and any(directory.iterdir()) and read(directory) is None:
        raise PrepareError(
            f"{directory} is not empty and holds no dataset manifest; refusing to replace it (choose an "
            "empty or new directory)"
        )


def is_complete(directory: Path, spec: DatasetSpec) -> bool:
    """True when ``directory`` already holds this dataset, every file matching its manifest digest."""
    manifest = read(directory)
    if (
        manifest is None
        or manifest.get("dataset") != spec.name
        or manifest.get("counts") != dict(spec.counts)
    ):
        return False
    return files_match(directory, manifest.get("files"))


def files_match(directory: Path, files: Any) -> bool:
    """True when ``files`` (a manifest's) lists exactly the four IDX files and each one's sha256 matches."""
    if not isinstance(files, dict) or set(files) != set(IDX_FILES):
        return False
    for name, record in files.items():
        try:
            digest = sha256_file(directory / name)
        except OSError:
            return False
        if not isinstance(record, dict) or digest != record.get("sha256"):
            return False
    return True


def sha256_file(path: Path) -> str:
    """A file's SHA-256, read in blocks (artifacts of user images can be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
