"""dataset=image_folder: a killed run resumes from its finished chunks and publishes the same bytes."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

# Runs the CLI and SIGKILLs it right after the parent has seen argv[1] chunks finish.
KILL_AFTER_CHUNKS = """
import os, signal, sys
from data_prepare import cli
from data_prepare.image_folder import chunks
limit, sys.argv = int(sys.argv[1]), ["data-prepare", *sys.argv[2:]]
real_add, seen = chunks.Progress.add, []
def add(self, record):
    real_add(self, record)
    seen.append(record["chunk"])
    if len(seen) == limit:
        os.kill(os.getpid(), signal.SIGKILL)
chunks.Progress.add = add
cli.main()
"""
CHUNKED = ["dataset.workers=2", "dataset.chunk_size=50"]  # 600 + 200 images: 12 + 4 chunks


def args(tree, out: Path, *extra: str) -> list[str]:
    return ["dataset=image_folder", f"source={tree.root}", f"paths.output_dir={out}", *CHUNKED, *extra]


def kill_after(chunks: int, *cli_args: str) -> None:
    killed = subprocess.run(
        [sys.executable, "-c", KILL_AFTER_CHUNKS, str(chunks), *cli_args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr


def work_dirs(parent: Path) -> list[Path]:
    return sorted(parent.glob(".ds.chunks-*"))


def test_killed_run_resumes_and_publishes_the_same_bytes(grey_tree, cli, artifact, tmp_path):
    out = tmp_path / "ds"
    kill_after(3, *args(grey_tree, out))
    assert not out.exists()
    [work] = work_dirs(tmp_path)
    assert len(list(work.glob("*.json"))) >= 3

    again = cli(*args(grey_tree, out))
    assert again.returncode == 0, again.stderr
    reused = re.search(r"reused (\d+) of 16 chunks", again.stderr)
    assert reused and 3 <= int(reused.group(1)) < 16, again.stderr
    assert work_dirs(tmp_path) == []
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []

    reference = tmp_path / "reference"
    straight = cli(*args(grey_tree, reference))
    assert straight.returncode == 0, straight.stderr
    assert "reused" not in straight.stderr
    assert artifact(out).file_bytes() == artifact(reference).file_bytes()


def test_ctrl_c_keeps_finished_chunks(grey_tree, cli, tmp_path):
    out = tmp_path / "ds"
    driver = KILL_AFTER_CHUNKS.replace("signal.SIGKILL", "signal.SIGINT")
    interrupted = subprocess.run(
        [sys.executable, "-c", driver, "3", *args(grey_tree, out)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert interrupted.returncode == 130, interrupted.stderr
    assert "Traceback" not in interrupted.stderr
    assert interrupted.stderr.strip().splitlines()[-1] == (
        "data-prepare: interrupted; the output directory is unchanged or complete"
    )
    assert not out.exists()
    [work] = work_dirs(tmp_path)
    assert len(list(work.glob("*.json"))) >= 3
    again = cli(*args(grey_tree, out))
    assert again.returncode == 0 and re.search(r"reused \d+ of 16 chunks", again.stderr), again.stderr
    assert work_dirs(tmp_path) == []


def test_another_plan_never_reuses_chunks(grey_tree, cli, artifact, tmp_path):
    out = tmp_path / "ds"
    kill_after(3, *args(grey_tree, out))
    [stale] = work_dirs(tmp_path)
    other = cli(*args(grey_tree, out, "dataset.resample=nearest"))
    assert other.returncode == 0, other.stderr
    assert "reused" not in other.stderr
    assert not stale.exists() and work_dirs(tmp_path) == []
    assert artifact(out).manifest["images"]["resample"] == "nearest"


def test_changed_source_file_changes_the_plan(small_tree, cli, artifact, tmp_path):
    out = tmp_path / "ds"
    assert cli(*args(small_tree, out)).returncode == 0
    first = artifact(out).manifest["images"]["plan"]
    assert cli(*args(small_tree, out)).stdout.startswith("reused image_folder")
    from PIL import Image

    Image.new("L", (28, 28), 7).save(small_tree.root / small_tree.paths["train"][0])
    again = cli(*args(small_tree, out))
    assert again.stdout.startswith("published image_folder (40 train / 12 test images)"), again.stderr
    got = artifact(out)
    assert got.manifest["images"]["plan"] != first
    assert (got.images["train"][0] == 7).all()


def test_concurrent_runs_take_turns(small_tree, artifact, tmp_path):
    out = tmp_path / "ds"
    exe = Path(sys.executable).parent / "data-prepare"
    runs = [
        subprocess.Popen(
            [str(exe), *args(small_tree, out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    results = [(run.wait(120), *run.communicate()) for run in runs]
    assert [code for code, _, _ in results] == [0, 0], results
    assert sorted(stdout.split()[0] for _, stdout, _ in results) == ["published", "reused"]
    assert artifact(out).manifest["counts"] == {"train": 40, "test": 12}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_forked_and_fork_server_workers_publish_the_same_bytes(small_tree, artifact, tmp_path, monkeypatch):
    from data_prepare import ImageFolderSpec, prepare_image_folder
    from data_prepare.image_folder import chunks

    used = []
    real = chunks._context
    monkeypatch.setattr(chunks, "_context", lambda: used.append(real()) or used[-1])
    spec = ImageFolderSpec(workers=2, chunk_size=10)
    for single in (True, False):
        monkeypatch.setattr(chunks, "_single_threaded", lambda single=single: single)
        prepare_image_folder(spec, tmp_path / str(single), source=str(small_tree.root))
    assert [context.get_start_method() for context in used] == ["fork", "forkserver"]
    assert artifact(tmp_path / "True").file_bytes() == artifact(tmp_path / "False").file_bytes()


def test_threads_are_counted():
    import threading

    from data_prepare.image_folder import chunks

    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not chunks._single_threaded()
    finally:
        stop.set()
        other.join()


UNGUARDED_SCRIPT = """
import sys, threading
from data_prepare import ImageFolderSpec, prepare_image_folder
threading.Thread(target=threading.Event().wait, daemon=True).start()  # so workers come from the fork server
spec = ImageFolderSpec(workers=2, chunk_size=10)
print(prepare_image_folder(spec, sys.argv[2], source=sys.argv[1]).manifest["counts"])
"""


def test_script_without_main_guard_is_not_run_again_by_workers(small_tree, tmp_path):
    script = tmp_path / "unguarded.py"
    script.write_text(UNGUARDED_SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script), str(small_tree.root), str(tmp_path / "ds")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "{'train': 40, 'test': 12}"
