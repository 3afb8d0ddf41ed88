"""Vertex AI accelerator names, taken from aiplatform's ``AcceleratorType`` enum, and the one check of a
configured accelerator type (compile checks every step's; submit re-checks the compiled spec's).

Importing aiplatform costs ~3 s, so the names are cached per installed google-cloud-aiplatform version
under ``$XDG_CACHE_HOME/pipeline-sdk`` (default ``~/.cache/pipeline-sdk``); the cache is only a shortcut
and is rebuilt whenever it is missing, unreadable or from another aiplatform version.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from pipeline_sdk.errors import ConfigError
from pipeline_sdk.files import write_text_atomic

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
    """Best effort: a read-only home only costs the next run the aiplatform import."""
    with contextlib.suppress(OSError):
        write_text_atomic(path, text)


def validate_accelerator_type(name: str, key: str) -> str:
    """``name`` if Vertex knows it, else a :class:`ConfigError` listing the valid names."""
    valid = vertex_accelerator_types()
    if name in valid:
        return name
    upper = name.upper().replace("-", "_")
    close = [upper] if upper in valid else difflib.get_close_matches(upper, valid, n=3, cutoff=0.6)
    hint = f" (did you mean {' or '.join(close)}?)" if close else ""
    raise ConfigError(f"{key}: {name!r} is not a Vertex AI accelerator type{hint}; valid: {', '.join(valid)}")


__all__ = ["validate_accelerator_type", "vertex_accelerator_types"]
