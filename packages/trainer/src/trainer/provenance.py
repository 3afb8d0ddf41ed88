"""What produced a model: the dataset manifest's digests and the versions of the packages involved."""

from __future__ import annotations

from importlib import metadata
from typing import Any

PACKAGES = ("hydra-vertex-trainer", "torch", "lightning", "torchmetrics", "hydra-core", "numpy")


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def provenance(data_dir: str, manifest: dict[str, Any] | None) -> dict[str, Any]:
    """Provenance block for ``metrics.json``; dataset fields come from data-prepare's manifest when present."""
    dataset: dict[str, Any] = {"data_dir": str(data_dir)}
    if manifest is not None:
        for key in ("format", "dataset", "source", "producer", "counts"):
            if key in manifest:
                dataset[key] = manifest[key]
        files = manifest.get("files")
        if isinstance(files, dict):
            dataset["sha256"] = {
                name: info["sha256"]
                for name, info in files.items()
                if isinstance(info, dict) and "sha256" in info
            }
    return {"dataset": dataset, "packages": package_versions()}
