"""Atomic file writes: readers see the old file or the new one, never half of one.

Every file pipeline-sdk writes (the compiled pipeline, ``images.lock.json``, ``run.json``, the accelerator
cache) goes through :func:`replacing`. The temporary file is created beside the target (``mkstemp``, so
mode 0600) and, before it replaces the target, gets the mode a plain ``open(path, "w")`` would have given
it: the existing file's mode, or ``0666`` minus the umask for a new file. On any failure it is removed.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def current_umask() -> int:
    """The process umask (read from ``/proc`` where possible: setting it to read it races with threads)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _open_mode(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return 0o666 & ~current_umask()


@contextmanager
def replacing(path: Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block ends normally it replaces ``path``.

    The caller writes the temporary file (itself, or through a library that takes a path). Raises
    ``OSError`` when the directory cannot be created or written; the temporary file never stays behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, _open_mode(path))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically; see :func:`replacing`."""
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


__all__ = ["current_umask", "replacing", "write_text_atomic"]
