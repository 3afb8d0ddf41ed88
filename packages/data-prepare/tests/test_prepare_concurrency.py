"""Concurrent runs, kills at every step of a publish, Ctrl-C, and file systems without locks or directory rename."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from data_prepare import atomic_directory, manifest, prepare
from data_prepare.spec import IDX_FILES, DatasetSpec


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def assert_verified(out: Path, dataset: str = "fashion_mnist") -> None:
    body = json.loads((out / "manifest.json").read_text())
    assert body["dataset"] == dataset
    assert sorted(p.name for p in out.iterdir()) == sorted([*IDX_FILES, "manifest.json"])
    spec = DatasetSpec.from_config({**body, "name": dataset})
    assert manifest.is_complete(out, spec)


def spawn(*args: str, **kwargs) -> subprocess.Popen[str]:
    """The real CLI, with SIGINT at its default (a child of a non-interactive shell may start ignoring it)."""
    exe = Path(sys.executable).parent / "data-prepare"
    return subprocess.Popen(
        [str(exe), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        **kwargs,
    )


def run_pairs(tiny, tmp_path: Path, pairs: int, *, stale: bool) -> None:
    for i in range(pairs):
        out = tmp_path / f"pair{i}" / "ds"
        if stale:  # both runs must swap out an older artifact of another dataset
            done = spawn(*tiny.overrides(), "dataset=kmnist", f"paths.output_dir={out}")
            assert done.wait(120) == 0, done.communicate()[1]
        runs = [spawn(*tiny.overrides(), f"paths.output_dir={out}") for _ in range(2)]
        results = [(run.wait(120), *run.communicate()) for run in runs]
        for code, _, stderr in results:
            assert code == 0, stderr
            assert "Traceback" not in stderr
        verbs = sorted(stdout.split()[0] for _, stdout, _ in results)
        assert verbs == ["published", "reused"], results
        assert_verified(out)
        assert leftovers(out.parent) == []


def test_concurrent_runs_both_succeed(tiny, tmp_path):
    run_pairs(tiny, tmp_path, 3, stale=False)
    run_pairs(tiny, tmp_path / "stale", 2, stale=True)


@pytest.mark.slow
def test_many_concurrent_pairs(tiny, tmp_path):
    run_pairs(tiny, tmp_path, 20, stale=False)
    run_pairs(tiny, tmp_path / "stale", 10, stale=True)


# Runs the CLI with os.rename / shutil.rmtree instrumented: SIGKILL just before the step named in argv[1].
KILLING_DRIVER = """
import os, shutil, signal, sys
from data_prepare import cli
step, sys.argv = sys.argv[1], ["data-prepare", *sys.argv[2:]]
real_rename, real_rmtree, renames = os.rename, shutil.rmtree, []
def rename(src, dst):
    renames.append(src)
    if step == f"rename{len(renames)}":
        os.kill(os.getpid(), signal.SIGKILL)
    real_rename(src, dst)
def rmtree(path, *args, **kwargs):
    if step == "remove-old" and ".old-" in str(path):
        os.kill(os.getpid(), signal.SIGKILL)
    real_rmtree(path, *args, **kwargs)
os.rename, shutil.rmtree = rename, rmtree
cli.main()
"""


@pytest.mark.parametrize(
    ("step", "left"),
    [
        # renames: 1 staging->target (refused: occupied), 2 target->old, 3 staging->target
        ("rename2", {"partial", "lock"}),  # staged completely, nothing moved yet
        ("rename3", {"partial", "old", "lock"}),  # between the two renames of the swap: target absent
        ("remove-old", {"old", "lock"}),  # the new artifact is in place, the old one not yet removed
    ],
)
def test_killed_publish_leaves_nothing_after_next_run(tiny, cli, tmp_path, step, left):
    out = tmp_path / "ds"
    assert cli(*tiny.overrides(), "dataset=kmnist", f"paths.output_dir={out}").returncode == 0
    killed = subprocess.run(
        [sys.executable, "-c", KILLING_DRIVER, step, *tiny.overrides(), f"paths.output_dir={out}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert {name.split(".")[2].split("-")[0] for name in leftovers(tmp_path)} == left
    if step == "rename3":
        assert not out.exists()
    else:
        assert_verified(out, "fashion_mnist" if step == "remove-old" else "kmnist")
    again = cli(*tiny.overrides(), f"paths.output_dir={out}")
    assert again.returncode == 0, again.stderr
    assert_verified(out)
    assert leftovers(tmp_path) == []


def interrupt(run: subprocess.Popen[str], when) -> tuple[int, str]:
    deadline = time.monotonic() + 60
    while not when():
        assert run.poll() is None and time.monotonic() < deadline, run.communicate()
        time.sleep(0.02)
    run.send_signal(signal.SIGINT)
    _, stderr = run.communicate(timeout=60)
    return run.returncode, stderr


def test_ctrl_c_while_waiting_for_another_run(tiny, tmp_path):
    out = tmp_path / "ds"
    lock = atomic_directory.lock_path(out)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another run holds the lock
    os.write(fd, b"4242\n")
    lines: list[str] = []
    run = spawn(*tiny.overrides(), f"paths.output_dir={out}")
    reader = threading.Thread(target=lambda: [lines.append(line) for line in run.stderr], daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while not any("waiting for another data-prepare run (pid 4242)" in line for line in lines):
            assert run.poll() is None and time.monotonic() < deadline, lines
            time.sleep(0.02)
        run.send_signal(signal.SIGINT)
        assert run.wait(60) == 130
    finally:
        os.close(fd)
    reader.join(10)
    assert "interrupted" in lines[-1] and "Traceback" not in "".join(lines), lines
    assert not out.exists()
    assert leftovers(tmp_path) == [lock.name]  # the holder's, untouched


@pytest.mark.parametrize("previous", [None, "kmnist"])
def test_ctrl_c_during_download(tiny, cli, tmp_path, file_server, previous):
    file_server.stall_after = 2  # two files are staged when the run is interrupted
    out = tmp_path / "ds"
    if previous:
        assert cli(*tiny.overrides(), f"dataset={previous}", f"paths.output_dir={out}").returncode == 0
    run = spawn(
        *tiny.overrides(with_source=False), f"source={file_server.url}/mirror/", f"paths.output_dir={out}"
    )
    code, stderr = interrupt(run, lambda: len(file_server.requests) > 2)
    assert code == 130, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1] == (
        "data-prepare: interrupted; the output directory is unchanged or complete"
    )
    if previous:
        assert_verified(out, previous)
    else:
        assert not out.exists()
    assert leftovers(tmp_path) == []


def test_ctrl_c_between_the_renames_is_held_back(tiny, cli, tmp_path):
    out = tmp_path / "ds"
    assert cli(*tiny.overrides(), "dataset=kmnist", f"paths.output_dir={out}").returncode == 0
    driver = KILLING_DRIVER.replace(
        "os.kill(os.getpid(), signal.SIGKILL)", "os.kill(os.getpid(), signal.SIGINT)"
    )
    result = subprocess.run(
        [sys.executable, "-c", driver, "rename3", *tiny.overrides(), f"paths.output_dir={out}"],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert result.returncode == 130, result.stderr
    assert "Traceback" not in result.stderr
    assert_verified(out)  # the swap completed before the interrupt took effect
    assert leftovers(tmp_path) == []


def spec_for(tiny) -> DatasetSpec:
    return DatasetSpec.from_config(
        {
            "name": "fashion_mnist",
            "image_shape": [28, 28],
            "counts": tiny.counts,
            "class_names": [str(i) for i in range(10)],
            "checksums": {name: f"sha256:{tiny.digest(name)}" for name in IDX_FILES},
        }
    )


def no_locks(monkeypatch) -> None:
    def refuse(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", refuse)


def test_loser_of_a_rename_race_accepts_the_winner(tiny, tmp_path, monkeypatch):
    no_locks(monkeypatch)  # with locks, runs take turns and never race
    spec = spec_for(tiny)
    out = tmp_path / "ds"
    with atomic_directory.staging_dir(out) as staging:
        for name in IDX_FILES:
            (staging / name).write_bytes((tiny.directory / name).read_bytes())
        prepare(spec, out, source=str(tiny.directory))  # another run wins meanwhile
        won = atomic_directory.commit(
            staging, out, last="manifest.json", pending=b"", done=lambda: manifest.is_complete(out, spec)
        )
    assert won is False
    assert_verified(out)
    assert leftovers(tmp_path) == []


def test_without_locks_only_dead_processes_leftovers_go(tiny, tmp_path, monkeypatch):
    no_locks(monkeypatch)
    out = tmp_path / "ds"
    live = tmp_path / f".ds.partial-{os.getpid()}-abc"
    dead = tmp_path / ".ds.old-999999999"
    for leftover in (live, dead):
        leftover.mkdir()
    prepare(spec_for(tiny), out, source=str(tiny.directory))
    assert_verified(out)
    assert leftovers(tmp_path) == [live.name]


def test_without_directory_rename_files_are_copied_manifest_last(tiny, tmp_path, monkeypatch):
    real_rename, order = os.rename, []

    def file_rename_only(src, dst):
        if Path(src).is_dir():
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real_rename(src, dst)

    real_copy = atomic_directory.shutil.copy2

    def copy(src, dst):
        order.append(Path(dst).name)
        if len(order) == 3 and interrupted:
            raise KeyboardInterrupt
        return real_copy(src, dst)

    monkeypatch.setattr(os, "rename", file_rename_only)
    monkeypatch.setattr(atomic_directory.shutil, "copy2", copy)
    out = tmp_path / "ds"
    interrupted = True
    with pytest.raises(KeyboardInterrupt):
        prepare(spec_for(tiny), out, source=str(tiny.directory))
    assert manifest.read(out) == json.loads(manifest.PENDING)  # recognisably ours, and not complete
    interrupted, order[:] = False, []
    prepare(spec_for(tiny), out, source=str(tiny.directory))
    assert order[-1] == "manifest.json"
    assert_verified(out)
    assert leftovers(tmp_path) == []


def test_missing_checksum_hint_is_an_override_that_works(tiny, cli, tmp_path):
    out = tmp_path / "ds"
    plain = [
        "dataset.torchvision_class=null",
        "dataset.system_package=null",
        f"source={tiny.directory}",
        *tiny.overrides(with_source=False)[:2],  # the counts, no checksums
    ]
    refused = cli(*plain, f"paths.output_dir={out}")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    hint = refused.stderr.rsplit("give every file's digest: ", 1)[1].rstrip(")\n")
    override = hint.strip("'")
    for name in IDX_FILES:
        override = override.replace(f"{name}: sha256:HEX", f"{name}: sha256:{tiny.digest(name)}", 1)
    accepted = cli(*plain, override, f"paths.output_dir={out}")
    assert accepted.returncode == 0, accepted.stderr
    assert_verified(out)
