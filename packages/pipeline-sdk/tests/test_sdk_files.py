"""Atomic writes: the files pipeline-sdk writes get the mode a plain open() would give, and a failed write
leaves nothing behind."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipeline_sdk.files import current_umask, replacing, write_text_atomic
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
    write_text_atomic(tmp_path / "a.json", "{}")
    ImageLock({"trainer": LockedImage("r/trainer", "0.1.0")}).save(tmp_path / "images.lock.json")
    assert mode(tmp_path / "a.json") == 0o644
    assert mode(tmp_path / "images.lock.json") == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "images.lock.json"]


def test_a_replaced_file_keeps_its_mode(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "shared.yaml"
    path.write_text("old")
    path.chmod(0o664)
    write_text_atomic(path, "new")
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
