"""The model artifact directory: its file names, and one run at a time (files go in through
:mod:`trainer.atomic`)."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from trainer.errors import TrainerError

MODEL_FILE = "model.pt"
CONFIG_FILE = "config.yaml"
METRICS_FILE = "metrics.json"
CHECKPOINT_DIR = "checkpoints"
LAST_CHECKPOINT = "last.ckpt"
RANK_VARIABLES = ("RANK", "LOCAL_RANK", "NODE_RANK")


def check_creatable_dir(path: Path, what: str) -> None:
    """Fail early, writing nothing, when ``path`` cannot be a directory this process may create files in."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    reason = None
    if not probe.is_dir():
        reason = "Not a directory"
    elif not os.access(probe, os.W_OK | os.X_OK):
        reason = "Permission denied"
    if reason:
        raise TrainerError(f"{what} {path} is not writable: {reason}")


def ensure_writable_dir(path: Path, what: str) -> None:
    """Create ``path`` if needed and prove a file can be created in it, or raise :class:`TrainerError`."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise TrainerError(f"{what} {path} is not writable: {reason}") from None


def _launching_process() -> bool:
    """Whether this is the process that started the run (not a DDP worker, which re-runs the command)."""
    return all(os.environ.get(name, "0") == "0" for name in RANK_VARIABLES)


def _lock(directory: Path) -> int | None:
    """Hold an exclusive ``flock`` on ``directory``; ``None`` where the file system has no locks (gcsfuse)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise TrainerError(
                f"output directory {directory} is in use by another trainer run; wait for it to finish "
                "or choose another paths.output_dir"
            ) from None
        return None
    return fd


def _prune_empty_dirs(root: Path) -> None:
    for directory in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        with contextlib.suppress(OSError):
            directory.rmdir()  # only succeeds when empty


def _remove_stale_temp_files(path: Path) -> None:
    """Delete the temp files of writes a killed run left unfinished (they are never read)."""
    for directory in (path, path / CHECKPOINT_DIR):
        for tmp in directory.glob(".*.tmp"):
            with contextlib.suppress(OSError):
                tmp.unlink()


@contextlib.contextmanager
def claim_output_dir(path: Path, *, primary: bool = True) -> Iterator[None]:
    """Create ``path``, hold it for this run, and leave no empty directories behind when the run fails.

    Two runs writing one directory at once would interleave checkpoints and logs (Lightning's CSV logger
    then fails rewriting the other run's rows), so a second run is refused while the first holds the lock.
    DDP workers run under the launching process's lock; on a cluster, ``primary`` is false on every node but
    the first, whose launching process holds the lock for all of them.
    """
    created = not path.exists()
    ensure_writable_dir(path, "output directory")
    holder = primary and _launching_process()
    fd = _lock(path) if holder else None
    if holder:
        _remove_stale_temp_files(path)
    try:
        yield
    except BaseException:
        _prune_empty_dirs(path)
        if created:
            with contextlib.suppress(OSError):
                path.rmdir()
        raise
    finally:
        if fd is not None:
            os.close(fd)
