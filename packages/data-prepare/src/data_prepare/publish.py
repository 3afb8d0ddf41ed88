"""Atomic publication of an artifact directory.

Files are written to a hidden sibling ``.<name>.partial-<pid>-<random>`` and renamed into place, so readers see
either no directory or a complete one. A crash can leave a partial sibling behind; the next run removes those
whose process is gone.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from data_prepare.errors import PrepareError

# Renaming a directory fails with these on file systems without directory rename (e.g. gcsfuse on Vertex
# AI without hierarchical namespace); there we copy file by file and write the manifest last.
NO_DIR_RENAME = {errno.EXDEV, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_partials(target: Path) -> None:
    for partial in target.parent.glob(f".{target.name}.partial-*"):
        pid = partial.name.removeprefix(f".{target.name}.partial-").split("-", 1)[0]
        if pid.isdigit() and not _pid_alive(int(pid)):
            shutil.rmtree(partial, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


@contextmanager
def staging_dir(target: Path) -> Iterator[Path]:
    """Yield an empty directory beside ``target``; it is removed unless :func:`commit` moved it."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-{os.getpid()}-", dir=target.parent))
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; the artifact should not be
    except OSError as e:
        raise PrepareError(f"cannot write the output directory {target}: {e.strerror or e}") from None
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def commit(staging: Path, target: Path, last: str) -> None:
    """Move the staged files to ``target``; ``last`` (the manifest) lands last when copying file by file."""
    _fsync_dir(staging)
    try:
        _swap_in(staging, target)
    except OSError as e:
        if e.errno not in NO_DIR_RENAME:
            raise PrepareError(f"cannot publish {target}: {e.strerror or e}") from None
        _copy_manifest_last(staging, target, last)
    _fsync_dir(target.parent)


def _swap_in(staging: Path, target: Path) -> None:
    if target.is_dir() and any(target.iterdir()):
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.rename(target, old)
        try:
            os.rename(staging, target)
        except OSError:
            os.rename(old, target)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(staging, target)  # onto a missing or empty directory: atomic on POSIX


def _copy_manifest_last(staging: Path, target: Path, last: str) -> None:
    target.mkdir(parents=True, exist_ok=True)
    (target / last).unlink(missing_ok=True)
    for item in sorted(staging.iterdir(), key=lambda p: p.name == last):
        shutil.copy2(item, target / item.name)
