"""Atomic publication of an artifact directory, safe against concurrent and interrupted runs.

Files are written to a hidden sibling ``.<name>.partial-<pid>-<random>`` and renamed into place, so readers see
either no directory or a complete one. An older artifact is first renamed to ``.<name>.old-<pid>`` and removed
once the new one is in place; Ctrl-C and SIGTERM wait until both renames are done.

Runs into the same directory take turns through an ``flock`` on ``.<name>.lock`` beside it (the holder unlinks it
when done), so a second run waits and then finds the artifact complete. The lock holder removes every
partial or old sibling: with the lock held no other run can own one. Where locking is unavailable (a file
system that refuses it), only siblings of dead processes are removed, and a run that loses the race to rename
accepts the winner's artifact when it is complete. GCS FUSE applies locks within one machine.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from data_prepare.errors import PrepareError

# Renaming a directory fails with these on file systems without directory rename (e.g. gcsfuse on Vertex
# AI without hierarchical namespace); there we copy file by file and write the manifest last.
NO_DIR_RENAME = {errno.EXDEV, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS}
# rename(2) onto a non-empty directory
OCCUPIED = {errno.ENOTEMPTY, errno.EEXIST}
LEFTOVER_KINDS = ("partial", "old")


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (one of another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lock_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.lock")


@contextmanager
def exclusive(target: Path, log: Callable[[str], None] = lambda message: None) -> Iterator[bool]:
    """Hold the lock for publishing ``target``; yields False (holding nothing) where locking is unavailable."""
    path = lock_path(target)
    fd = _acquire(path, target, log)
    if fd is None:
        yield False
        return
    try:
        yield True
    finally:
        with suppress(OSError):
            path.unlink()  # while still holding it, so a waiter on this inode retries on a fresh file
        os.close(fd)


def _acquire(path: Path, target: Path, log: Callable[[str], None]) -> int | None:
    while True:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError:
            return None  # an unwritable parent: publishing says so, reusing a complete artifact still works
        try:
            locked = _flock(fd, target, log)
            if locked and _same_file(fd, path):
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
        if not locked:  # nobody can hold a lock here, so nobody needs the file
            with suppress(OSError):
                path.unlink()
            return None
        # else the previous holder unlinked this file while we waited: lock the one now at ``path``
    with suppress(OSError):  # the pid only serves the waiting message
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def _flock(fd: int, target: Path, log: Callable[[str], None]) -> bool:
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            log(f"waiting for another data-prepare run (pid {holder}) publishing {target}")
            fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError:  # ENOLCK, EINVAL...: this file system does not lock
        return False
    return True


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (on_disk.st_dev, on_disk.st_ino)


def remove_leftovers(target: Path, *, locked: bool) -> None:
    """Remove partial and old siblings of interrupted runs: all of them under the lock, else those of dead pids."""
    try:
        siblings = list(target.parent.iterdir())
    except OSError:
        return
    for leftover in siblings:
        for kind in LEFTOVER_KINDS:
            owner = leftover.name.removeprefix(f".{target.name}.{kind}-")
            if owner != leftover.name:
                pid = owner.split("-", 1)[0]
                if locked or (pid.isdigit() and not pid_alive(int(pid))):
                    shutil.rmtree(leftover, ignore_errors=True)


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


def commit(staging: Path, target: Path, *, last: str, pending: bytes, done: Callable[[], bool]) -> bool:
    """Move the staged files to ``target``.

    Returns False when another run published an artifact that ``done()`` accepts first. Where directories
    cannot be renamed, files are copied: ``last`` (the manifest) is first replaced by ``pending`` (so an
    interrupted copy is recognisably this tool's) and lands last.
    """
    _fsync_dir(staging)
    try:
        published = _swap_in(staging, target, done)
    except OSError as e:
        if e.errno not in NO_DIR_RENAME:
            raise PrepareError(f"cannot publish {target}: {e.strerror or e}") from None
        _copy_manifest_last(staging, target, last, pending)
        published = True
    _fsync_dir(target.parent)
    return published


def _swap_in(staging: Path, target: Path, done: Callable[[], bool]) -> bool:
    try:
        os.rename(staging, target)  # onto a missing or empty directory: atomic on POSIX
        return True
    except OSError as e:
        if e.errno not in OCCUPIED:
            raise
    if done():
        return False
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    with _interrupts_deferred():
        os.rename(target, old)
        try:
            os.rename(staging, target)
        except OSError as e:
            try:
                os.rename(old, target)
            except OSError:  # another run's artifact took the place meanwhile
                shutil.rmtree(old, ignore_errors=True)
                if e.errno in OCCUPIED and done():
                    return False
            raise
        shutil.rmtree(old, ignore_errors=True)
    return True


@contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back until the block ends, so an artifact is never left displaced."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {
        sig: signal.signal(sig, lambda signum, frame: received.append(signum))
        for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        if received:
            signal.raise_signal(received[0])


def _copy_manifest_last(staging: Path, target: Path, last: str, pending: bytes) -> None:
    target.mkdir(parents=True, exist_ok=True)
    write_file(target / last, pending)
    for item in sorted(staging.iterdir(), key=lambda p: p.name == last):
        shutil.copy2(item, target / item.name)
