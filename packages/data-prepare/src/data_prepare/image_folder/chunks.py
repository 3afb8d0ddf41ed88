"""Decoding a plan's chunks in parallel, resuming from the chunks a killed run finished.

Chunks live in a hidden sibling of the output, ``.<name>.chunks-<plan digest>/``: a run with the same plan
reuses every chunk whose record matches, and the directory is removed once the artifact is published.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import sys
import time
import types
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from data_prepare.errors import PrepareError
from data_prepare.image_folder import worker
from data_prepare.image_folder.decode import pillow_configured
from data_prepare.image_folder.plan import ChunkTask, Plan

LOG_EVERY_S = 10.0


def work_dir(output_dir: Path, plan: Plan) -> Path:
    return output_dir.with_name(f".{output_dir.name}.chunks-{plan.short}")


def remove_stale(output_dir: Path, keep: Path) -> None:
    """Remove the chunk directories of other plans (only the lock holder may: another run may own one)."""
    for sibling in output_dir.parent.glob(f".{output_dir.name}.chunks-*"):
        if sibling != keep:
            shutil.rmtree(sibling, ignore_errors=True)


class Progress:
    """Counts decoded images; logs at most every ``LOG_EVERY_S`` seconds."""

    def __init__(self, total: int, log: Callable[[str], None]) -> None:
        self.total, self.done, self.log = total, 0, log
        self.started = self.logged = time.monotonic()

    def add(self, record: dict[str, Any]) -> None:
        self.done += record["count"] + len(record["skipped"])
        now = time.monotonic()
        if now - self.logged >= LOG_EVERY_S:
            self.logged = now
            self.log(f"decoded {self.done:,} of {self.total:,} images ({self.rate():,.0f} images/s)")

    def rate(self) -> float:
        return self.done / max(time.monotonic() - self.started, 1e-9)


def run(plan: Plan, job: worker.Job, workers: int, log: Callable[[str], None]) -> list[dict[str, Any]]:
    """Every chunk's record, in plan order: reused where a finished one matches, else decoded now."""
    work = Path(job.work)
    try:
        work.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise PrepareError(f"cannot write the output directory's chunks {work}: {e.strerror or e}") from None
    records = {task.id: record for task in plan.chunks if (record := load(work, plan, task)) is not None}
    pending = [task for task in plan.chunks if task.id not in records]
    if records:
        log(f"reused {len(records)} of {len(plan.chunks)} chunks from {work}")
    if pending:
        progress = Progress(sum(len(task.entries) for task in pending), log)
        processes = min(workers, len(pending))
        if processes <= 1:
            with pillow_configured():
                for task in pending:
                    records[task.id] = worker.decode_chunk(job, task)
                    progress.add(records[task.id])
        else:
            _in_pool(pending, job, processes, records, progress)
        log(
            f"decoded {progress.done:,} images in {len(pending)} chunks with {processes} process(es) "
            f"({progress.rate():,.0f} images/s)"
        )
    return [records[task.id] for task in plan.chunks]


def _context() -> multiprocessing.context.BaseContext:
    """How workers start.

    fork where this process runs one thread (the CLI, most scripts): workers start in milliseconds and no
    second interpreter has to start and import Pillow. forkserver otherwise (or off Linux): forking a
    multi-threaded process can deadlock the child on a lock another thread held; its workers fork from a
    small server process that imported only the worker module, so they inherit no threads and none of the
    caller's imports (torch, hydra). Either way workers import nothing beyond Pillow and this package.
    """
    if _single_threaded():
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([worker.__name__])
    return context


def _single_threaded() -> bool:
    try:
        return len(os.listdir("/proc/self/task")) == 1  # every thread, those of C libraries too
    except OSError:
        return False


def _in_pool(
    pending: list[ChunkTask], job: worker.Job, processes: int, records: dict[str, Any], progress: Progress
) -> None:
    # A ProcessPoolExecutor, unlike multiprocessing.Pool, reports a worker that died (a decoder crash) rather
    # than waiting for it forever. A forked child would flush a copy of anything still buffered here.
    sys.stdout.flush()
    sys.stderr.flush()
    pool = ProcessPoolExecutor(processes, mp_context=_context(), initializer=worker.start, initargs=(job,))
    try:
        with _callers_main_hidden():  # submit() starts the processes
            futures = {pool.submit(worker.run_chunk, task): task for task in pending}
        for future in as_completed(futures):
            try:
                record = future.result()
            except BrokenProcessPool:
                task = futures[future]
                raise PrepareError(
                    f"a decoding process died while decoding chunk {task.id} ({len(task.entries)} images "
                    f"from {job.location(task.entries[0][0])}); run again with dataset.workers=1 to see "
                    "which image crashes Pillow"
                ) from None
            records[record["chunk"]] = record
            progress.add(record)
    finally:
        # after an error: running chunks finish, queued ones are dropped
        pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def _callers_main_hidden() -> Iterator[None]:
    """Start workers without re-running the caller's ``__main__``.

    forkserver (like spawn) imports the main module again in every new process: a script without an
    ``if __name__ == "__main__":`` guard would run again there, e.g. call prepare_image_folder() and wait for
    this run's lock forever. The workers need nothing from it (their code is this package's), so while they
    start, multiprocessing sees a bare ``__main__`` with no file or module name to import.
    """
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is None:
            del sys.modules["__main__"]
        else:
            sys.modules["__main__"] = main


def load(work: Path, plan: Plan, task: ChunkTask) -> dict[str, Any] | None:
    """A finished chunk's record when it belongs to this plan and its files are whole, else None."""
    try:
        record = json.loads((work / f"{task.id}.json").read_text())
        if (record["plan"], record["chunk"], record["entries"]) != (plan.digest, task.id, task.digest):
            return None
        if (work / f"{task.id}.images.gz").stat().st_size != record["images_bytes"]:
            return None
        if len(bytes.fromhex(record["labels"])) != record["count"]:
            return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return record
