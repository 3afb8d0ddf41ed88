"""Vertex AI accelerator names, taken from aiplatform's ``AcceleratorType`` enum.

Importing aiplatform costs ~3 s, so the names are cached per installed google-cloud-aiplatform version
under ``$XDG_CACHE_HOME/pipeline-sdk`` (default ``~/.cache/pipeline-sdk``); the cache is only a shortcut
and is rebuilt whenever it is missing, unreadable or from another aiplatform version.
"""

from __future__ import annotations

import json
import os
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from pipeline_sdk.errors import ConfigError

_UNSPECIFIED = "ACCELERATOR_TYPE_UNSPECIFIED"


def _cache_file() -> Path | None:
    try:
        aiplatform_version = version("google-cloud-aiplatform")
    except PackageNotFoundError:
        return None
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "pipeline-sdk" / f"vertex-accelerators-{aiplatform_version}.json"


def _from_aiplatform() -> tuple[str, ...]:
    from google.cloud.aiplatform_v1.types.accelerator_type import AcceleratorType

    return tuple(name for name in AcceleratorType.__members__ if name != _UNSPECIFIED)


def vertex_accelerator_types() -> tuple[str, ...]:
    """All accelerator type names Vertex AI accepts (``NVIDIA_L4``, ``NVIDIA_H100_80GB``, ...)."""
    cache = _cache_file()
    if cache is not None:
        try:
            names = json.loads(cache.read_text())
            if isinstance(names, list) and names and all(isinstance(n, str) for n in names):
                return tuple(names)
        except (OSError, ValueError):
            pass
    names = _from_aiplatform()
    if cache is not None:
        _write_quietly(cache, json.dumps(list(names)))
    return names


def _write_quietly(path: Path, text: str) -> None:
    """Best effort, atomic: a read-only home only costs the next run the aiplatform import."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError:
        pass


def validate_accelerator_type(name: str, key: str) -> str:
    """``name`` if Vertex knows it, else a :class:`ConfigError` listing the valid names."""
    valid = vertex_accelerator_types()
    if name in valid:
        return name
    hint = ""
    upper = name.upper().replace("-", "_")
    if upper in valid:
        hint = f" (did you mean {upper}?)"
    raise ConfigError(f"{key}: {name!r} is not a Vertex AI accelerator type{hint}; valid: {', '.join(valid)}")


__all__ = ["validate_accelerator_type", "vertex_accelerator_types"]
