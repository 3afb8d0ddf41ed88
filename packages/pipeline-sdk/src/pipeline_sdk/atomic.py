"""Atomic file writes: readers see the old file or the new one, never half of one.

Every file pipeline-sdk writes (the compiled pipeline, ``images.lock.json``, ``run.json``, the accelerator
cache) goes through :func:`replacing`. The temporary file is created beside the target (``mkstemp``, so
mode 0600) and, before it replaces the target, gets the mode a plain ``open(path, "w")`` would have given
it: the existing file's mode, or ``0666`` minus the umask for a new file; its data is flushed to disk before
the rename, so a crash leaves the old file or the whole new one. On any failure it is removed.

What is at the path decides where the bytes go (:func:`write_target`): a symlink is followed and the file
it names is replaced (the link stays a link); a character device or a FIFO (``-o /dev/stdout``) is written
to as it is, never replaced; a directory, socket or block device is refused with ``OSError``.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_NOT_A_FILE = {stat.S_IFDIR: "a directory", stat.S_IFSOCK: "a socket", stat.S_IFBLK: "a block device"}


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


def write_target(path: Path) -> tuple[Path, bool]:
    """The file that writing ``path`` changes, and whether it is written in place (a character device or a
    FIFO) rather than replaced; raises ``OSError`` for a directory, socket or block device."""
    try:
        mode = os.stat(path).st_mode  # through any symlinks (/dev/stdout -> /proc/self/fd/1 -> a pipe)
    except FileNotFoundError:
        return Path(os.path.realpath(path)), False
    if stat.S_ISREG(mode):
        return Path(os.path.realpath(path)), False
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return Path(path), True
    kind = _NOT_A_FILE.get(stat.S_IFMT(mode), "not a regular file")
    raise OSError(errno.EINVAL, f"not a regular file ({kind})", str(path))


def _sync(path: Path) -> None:
    """Flush ``path``'s data to disk, so that after a crash the renamed file is whole, not empty."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def replacing(path: Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path; when the block ends normally its contents go to ``path`` (see
    :func:`write_target`): by replacing the file, or written into a device or FIFO.

    The caller writes the temporary file (itself, or through a library that takes a path). Raises
    ``OSError`` when the directory cannot be created or written; the temporary file never stays behind.
    """
    target, in_place = write_target(Path(path))
    if not in_place:
        target.parent.mkdir(parents=True, exist_ok=True)
    # beside the target, so the rename is atomic; a device's directory is no place for it
    fd, name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=suffix, dir=None if in_place else target.parent
    )
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        if in_place:
            with tmp.open("rb") as source, open(target, "wb") as sink:
                shutil.copyfileobj(source, sink)
        else:
            _sync(tmp)
            os.chmod(tmp, _open_mode(target))
            os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically; see :func:`replacing`."""
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


__all__ = ["current_umask", "replacing", "write_target", "write_text"]
