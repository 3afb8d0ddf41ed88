"""Read one file to lint: regular files only, never more than ``MAX_FILE_BYTES``, decoded as UTF-8.

The size is not taken from ``st_size`` (0 for devices and for files under ``/proc``): at most one byte
past the cap is ever read. A FIFO, socket or device is refused before it is opened for reading (opening
a FIFO would wait for a writer), and the opened file is checked again in case the path changed between.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from hydra_yaml_lint.errors import PathError

MAX_FILE_BYTES = 16 * 1024 * 1024
JSON_SUFFIX = ".json"
# A JSON file is linted when it looks like a KFP component or pipeline spec (kfp < 2 compiled to JSON).
_KFP_JSON_MARKERS = ('"deploymentSpec"', '"pipelineSpec"', '"implementation"')
_CHUNK = 1024 * 1024
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


@dataclass(frozen=True)
class Contents:
    """What a file holds: its text, or why it is not linted as text (``problem``, a HY900 message)."""

    text: str | None
    problem: str | None = None


def describe_os_error(error: OSError) -> str:
    return error.strerror or str(error)


def _not_regular(mode: int) -> str | None:
    for test, kind in _KINDS:
        if test(mode):
            return f"not a regular file ({kind}); skipped"
    return None if stat.S_ISREG(mode) else "not a regular file; skipped"


def read_bytes(path: str | os.PathLike[str], limit: int = MAX_FILE_BYTES) -> bytes:
    """At most ``limit + 1`` bytes of a regular file. Raises :class:`PathError`."""
    try:
        problem = _not_regular(os.stat(path).st_mode)
        if problem:
            raise PathError(problem)
        flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
        descriptor = os.open(path, flags)
    except OSError as error:
        raise PathError(f"cannot read: {describe_os_error(error)}") from None
    try:
        problem = _not_regular(os.fstat(descriptor).st_mode)
        if problem:
            raise PathError(problem)
        chunks: list[bytes] = []
        remaining = limit + 1
        while remaining > 0:
            chunk = os.read(descriptor, min(_CHUNK, remaining))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
    except OSError as error:
        raise PathError(f"cannot read: {describe_os_error(error)}") from None
    finally:
        os.close(descriptor)


def read_contents(path: str | os.PathLike[str], limit: int = MAX_FILE_BYTES) -> Contents:
    """The file's text, or a problem when it is too large, binary or not UTF-8. Raises
    :class:`PathError` when it cannot be read at all. A ``.json`` file that is not a KFP spec reads as
    empty text: it is not a file this linter is about."""
    data = read_bytes(path, limit)
    if len(data) > limit:
        return Contents(None, f"larger than {limit} bytes; not linted")
    if b"\x00" in data:
        return Contents(None, "binary file, not YAML text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return Contents(None, f"not UTF-8 text (byte {error.start})")
    if os.fspath(path).endswith(JSON_SUFFIX) and not any(marker in text for marker in _KFP_JSON_MARKERS):
        return Contents("")
    return Contents(text)
