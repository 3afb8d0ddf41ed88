"""Replace a file atomically: readers see the old text or the new one, never a part."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to a temporary file beside ``path`` and rename it over ``path`` (over the file
    a symlink names, when ``path`` is one; the linter only reads regular files, so that is the only kind).

    The file gets the mode a plain ``open(path, "w")`` would give: an existing file keeps its mode, a new
    one gets 0666 minus the umask (the kernel applies it, no process-wide ``os.umask`` round trip). The
    temporary file is removed when anything fails, and the error is raised.
    """
    # a symlink stays a link: the file it names is the one replaced
    path = Path(os.path.realpath(path))
    try:
        mode: int | None = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    for _ in range(100):
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            descriptor = os.open(temporary, _CREATE, 0o666)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(f"no free temporary name beside {path}")
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(text.encode("utf-8"))
            stream.flush()
            os.fsync(stream.fileno())  # after a crash the renamed file is whole, not empty
            if mode is not None:
                os.fchmod(stream.fileno(), mode)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
