"""Atomic writes: the files pipeline-sdk writes get the mode a plain open() would give, and a failed write
leaves nothing behind."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipeline_sdk.atomic import current_umask, replacing, write_text
from pipeline_sdk.images.lock import ImageLock, LockedImage


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_files_get_0644_under_umask_022(tmp_path: Path, umask_022: None) -> None:
    assert current_umask() == 0o022
    write_text(tmp_path / "a.json", "{}")
    ImageLock({"trainer": LockedImage("r/trainer", "0.1.0")}).save(tmp_path / "images.lock.json")
    assert mode(tmp_path / "a.json") == 0o644
    assert mode(tmp_path / "images.lock.json") == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "images.lock.json"]


def test_a_replaced_file_keeps_its_mode(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "shared.yaml"
    path.write_text("old")
    path.chmod(0o664)
    write_text(path, "new")
    assert (path.read_text(), mode(path)) == ("new", 0o664)


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "keep.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError), replacing(path) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_cli_outputs_are_0644_under_umask_022(
    sdk: Callable, tmp_path: Path, runs: Path, tiny_data_prepare: Path, probe_train: Path
) -> None:
    env = {"HOME": str(tmp_path / "home")}
    compiled = tmp_path / "out" / "p.yaml"
    result = sdk("compile", "-o", str(compiled), env=env, umask=0o022)
    assert result.returncode == 0, result.stderr
    result = sdk(
        "run",
        f"steps.data-prepare.component={tiny_data_prepare}",
        f"steps.train.component={probe_train}",
        f"local.root={runs}",
        env=env,
        umask=0o022,
    )
    assert result.returncode == 0, result.stderr
    written = [compiled, result.run_dir / "run.json", result.run_dir / "pipeline.yaml"]
    written += list((tmp_path / "home" / ".cache" / "pipeline-sdk").glob("*.json"))
    assert len(written) == 4
    assert {str(p): mode(p) for p in written} == {str(p): 0o644 for p in written}


def test_a_symlink_stays_a_link_and_the_file_it_names_is_replaced(tmp_path: Path, umask_022: None) -> None:
    real = tmp_path / "real" / "pipeline.yaml"
    real.parent.mkdir()
    real.write_text("old")
    real.chmod(0o640)
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    write_text(link, "new")
    assert link.is_symlink() and (real.read_text(), mode(real)) == ("new", 0o640)
    dangling = tmp_path / "dangling.yaml"
    dangling.symlink_to(tmp_path / "real" / "new.yaml")
    write_text(dangling, "created")
    assert dangling.is_symlink() and (tmp_path / "real" / "new.yaml").read_text() == "created"


def test_a_fifo_and_a_character_device_are_written_in_place(tmp_path: Path) -> None:
    import threading

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    write_text(fifo, "through the pipe")
    reader.join(timeout=10)
    assert received == ["through the pipe"] and stat.S_ISFIFO(fifo.stat().st_mode)
    null = tmp_path / "null"  # the test's own node, with /dev/null's numbers
    try:
        os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("creating a device node needs root")
    write_text(null, "discarded")
    assert stat.S_ISCHR(null.stat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "null"]


def test_a_directory_is_refused_and_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    with pytest.raises(OSError, match=r"not a regular file \(a directory\)"):
        write_text(target, "x")
    assert target.is_dir() and list(tmp_path.iterdir()) == [target]


def test_compile_to_dev_stdout_prints_the_pipeline(sdk: Callable) -> None:
    result = sdk("compile", "-o", "/dev/stdout")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# PIPELINE DEFINITION") and "deploymentSpec:" in result.stdout
