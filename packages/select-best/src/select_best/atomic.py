"""Atomic writes: each file goes to a sibling temp file and is renamed into place.

A crash or Ctrl-C never leaves a half-written file (the data is flushed to disk before the rename); files get
the mode a plain ``open()`` gives them: an existing file's own, else 0666 less the umask (0644 under umask
022). A symlink is followed (the file it names is replaced), a character device or FIFO
is written in place, and any other non-file at the path is refused.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from select_best.untrusted import open_regular

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


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[IO[bytes]]:
    """A new sibling temp file to write; renamed to ``path`` when the block succeeds, removed otherwise.
    A symlink's target is replaced, a character device or FIFO written in place (:func:`_write_target`)."""
    target = _write_target(path)
    if target is None:
        with path.open("wb") as f:
            yield f
        return
    path = target
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with tmp.open("xb") as f:
            with contextlib.suppress(FileNotFoundError):
                os.fchmod(f.fileno(), stat.S_IMODE(os.stat(path).st_mode))  # as open() keeps it
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
    """Copy ``source``'s contents to ``target`` (with ``open()``'s mode, not the source's); ``source`` must be
    a regular file itself, not a symlink to one (a trial's files never lead out of it)."""
    with open_regular(source) as src, _replacing(target) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
