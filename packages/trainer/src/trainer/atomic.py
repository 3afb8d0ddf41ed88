"""Atomic writes: every file goes to a sibling temp file, flushed to disk and renamed into place, so a crash
or Ctrl-C never leaves a half-written file.

Files get the mode a plain ``open()`` gives them: an existing file's own, else 0666 less the umask (0644
under umask 022). A symlink is followed (the file it names is replaced), a character device or FIFO is
written in place, and any other non-file at the path is refused.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from trainer.errors import TrainerError


def _create_temp(path: Path) -> tuple[int, Path]:
    """Create a new sibling temp file of ``path`` with ``open()``'s mode: an existing file's own, else 0666
    less the umask."""
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        with contextlib.suppress(FileNotFoundError):
            os.fchmod(fd, stat.S_IMODE(os.stat(path).st_mode))
        return fd, tmp


_NOT_A_FILE = {stat.S_IFDIR: "a directory", stat.S_IFSOCK: "a socket", stat.S_IFBLK: "a block device"}


def _write_target(path: Path) -> Path | None:
    """The file that writing ``path`` replaces: ``path``, or the file a symlink names (the link stays); None
    for a character device or FIFO, written in place; ``OSError`` for anything else that is not a file."""
    try:
        mode = os.stat(path).st_mode  # through symlinks
    except FileNotFoundError:
        return Path(os.path.realpath(path))
    if stat.S_ISREG(mode):
        return Path(os.path.realpath(path))
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return None
    kind = _NOT_A_FILE.get(stat.S_IFMT(mode), "not a regular file")
    raise OSError(errno.EINVAL, f"not a regular file ({kind})", str(path))


def check_file_target(path: Path, what: str) -> None:
    """Refuse, before anything is written, a ``path`` that :func:`atomic_write` could not write."""
    try:
        _write_target(path)
    except OSError as exc:
        raise TrainerError(f"{what} {path}: {exc.strerror or exc}") from None


def atomic_write(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write ``path`` through ``write`` into a sibling temp file, then rename it into place (a symlink's
    target is replaced; a character device or FIFO is written in place; another non-file is refused)."""
    target = _write_target(path)
    if target is None:
        with open(path, "wb") as f:
            write(f)
        return
    path = target
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temp(path)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda f: f.write(text.encode()))


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2) + "\n")


__all__ = ["atomic_write", "check_file_target", "write_json", "write_text"]
