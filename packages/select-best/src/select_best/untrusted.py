"""Reading a trial's files, which are untrusted input: only a regular file that is itself in the trial
directory is opened (never a symlink out of it, never a FIFO or a device)."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import IO


def open_regular(path: Path) -> IO[bytes]:
    """``path`` opened to read if it is itself a regular file: ``OSError`` for a symlink (never followed out
    of its directory), a FIFO (opened without waiting for a writer) or a device."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OSError(errno.ELOOP, "a symbolic link (a trial's files are read from inside it)") from None
        raise
    f = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        f.close()
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    return f


__all__ = ["open_regular"]
