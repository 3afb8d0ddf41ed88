"""Atomic writes: each file goes to a sibling temp file and is renamed into place.

A crash or Ctrl-C never leaves a half-written file; files get the mode a plain ``open()`` gives them
(0644 under umask 022).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[IO[bytes]]:
    """A new sibling temp file to write; renamed to ``path`` when the block succeeds, removed otherwise."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with tmp.open("xb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    with _replacing(path) as f:
        f.write(text.encode())


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2) + "\n")


def copy_file(source: Path, target: Path) -> None:
    """Copy ``source``'s contents to ``target`` (with ``open()``'s mode, not the source's)."""
    with source.open("rb") as src, _replacing(target) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
