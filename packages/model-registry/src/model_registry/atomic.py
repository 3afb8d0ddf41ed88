"""Write a step's outputs all or nothing.

Each file goes to a sibling temp file, is flushed to disk and renamed into place; when one write fails, every
file and directory this run created is removed again, so an output is either complete or absent (a file that
existed before is replaced only by a complete new one).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
from pathlib import Path
from typing import Any

from model_registry.errors import RegistryError


def _write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with tmp.open("xb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _ensure_dir(directory: Path, created: list[Path]) -> None:
    """``mkdir -p`` that records each directory it creates, outermost first."""
    missing = []
    while not directory.is_dir():
        if directory.exists() or directory.is_symlink():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(directory))
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        path.mkdir()
        created.append(path)


def _remove(paths: list[Path]) -> None:
    for path in reversed(paths):
        with contextlib.suppress(OSError):
            path.rmdir() if path.is_dir() else path.unlink()


def encode(content: str | dict[str, Any]) -> bytes:
    """Text as UTF-8; a dict as indented JSON."""
    text = content if isinstance(content, str) else json.dumps(content, indent=2) + "\n"
    return text.encode()


def write_all(writes: list[tuple[Path, str | dict[str, Any]]], directories: tuple[Path, ...] = ()) -> None:
    """Create ``directories``, then write each (path, text or JSON) pair; on failure undo what was created and
    raise :class:`RegistryError` naming the path."""
    created: list[Path] = []
    current = directories[0] if directories else (writes[0][0] if writes else Path("."))
    try:
        for current in directories:
            _ensure_dir(current, created)
        for current, content in writes:
            _ensure_dir(current.parent, created)
            existed = current.exists()
            _write_bytes(current, encode(content))
            if not existed:
                created.append(current)
    except OSError as exc:
        _remove(created)
        reason = exc.strerror or str(exc)
        if isinstance(exc, NotADirectoryError) and exc.filename:
            reason = f"{exc.filename} is not a directory"
        raise RegistryError(f"cannot write {current}: {reason}") from None
    except BaseException:
        _remove(created)
        raise


__all__ = ["encode", "write_all"]
