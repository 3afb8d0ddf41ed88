"""A trial directory is untrusted input (issue 23): only regular files inside it are read, within caps and a
strict JSON parser; a bad trial fails alone and the others are still compared; outputs never overlap an
input."""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from select_best.trials import MAX_METRICS_BYTES

Bad = Callable[[Path], None]


def metrics_text(text: str) -> Bad:
    return lambda directory: (directory / "metrics.json").write_text(text)


def metrics_value(key: str, value: object) -> Bad:
    def edit(directory: Path) -> None:
        data = json.loads((directory / "metrics.json").read_text())
        data[key] = value
        (directory / "metrics.json").write_text(json.dumps(data))

    return edit


def replaced_by(make: Callable[[Path], None], name: str = "metrics.json") -> Bad:
    def edit(directory: Path) -> None:
        (directory / name).unlink()
        make(directory / name)

    return edit


BAD_TRIALS = {
    "nan": (metrics_text('{"val_accuracy": NaN}'), "NaN is not a JSON number"),
    "infinity": (metrics_text('{"val_accuracy": 0.9, "test_accuracy": Infinity}'), "Infinity is not a JSON"),
    "huge-integer": (metrics_text('{"val_accuracy": ' + "9" * 400 + "}"), "an integer of 400 digits"),
    "huge-float": (metrics_text('{"val_accuracy": 1e999}'), "1e999 is out of range"),
    "deep-nesting": (metrics_text("[" * 200_000), "nested too deeply"),
    "over-the-cap": (metrics_text(" " * MAX_METRICS_BYTES + "{}"), f"larger than {MAX_METRICS_BYTES}"),
    "accuracy-5": (metrics_value("val_accuracy", 5.0), "val_accuracy 5.0 is not an accuracy in"),
    "fifo": (replaced_by(lambda p: os.mkfifo(p)), "not a regular file"),
    "symlink-out": (replaced_by(lambda p: p.symlink_to("/etc/hostname")), "a symbolic link"),
    "model-symlink-out": (replaced_by(lambda p: p.symlink_to("/etc/hostname"), "model.pt"), "no model.pt"),
    "deep-yaml": (lambda d: (d / "config.yaml").write_text("a: " + "[" * 5000), None),
}


@pytest.mark.parametrize("case", sorted(BAD_TRIALS))
def test_a_bad_trial_fails_alone_and_the_others_are_compared(tmp_path: Path, cli, trial, case: str) -> None:
    edit, reason = BAD_TRIALS[case]
    bad = trial(tmp_path / "bad", "lr0.008", metrics={"val_accuracy": 0.99})  # would win if it counted
    good = trial(tmp_path / "good")
    edit(bad)
    out = tmp_path / "out"
    result = cli(f"trials=[{bad},{good}]", f"paths.output_dir={out}")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    selection = json.loads((out / "best_model" / "selection.json").read_text())
    if reason is None:  # an unreadable config: the trial still counts, without its parameters
        assert selection["best_trial"] == 1
        return
    assert selection["best_trial"] == 2 and selection["failed_trials"] == [1]
    table = (out / "table.md").read_text()
    assert reason in table or reason in result.stdout, (reason, table)
    assert (out / "best_model" / "model.pt").read_bytes() == b"state dict of good"


def test_a_symlinked_model_is_never_copied_out(tmp_path: Path, cli, trial) -> None:
    """The winner's files are copied only as regular files of its own directory."""
    winner = trial(tmp_path / "winner", "lr0.008")
    (winner / "config.yaml").unlink()
    (winner / "config.yaml").symlink_to("/etc/hostname")
    out = tmp_path / "out"
    result = cli(f"trials=[{winner}]", f"paths.output_dir={out}")
    assert result.returncode == 0, result.stderr
    assert not (out / "best_model" / "config.yaml").exists()
    assert (out / "best_model" / "model.pt").read_bytes() == b"state dict of winner"


@pytest.mark.parametrize("where", ["the-trial", "inside-the-trial", "an-output-is-a-trial", "dotted"])
def test_outputs_may_not_overlap_an_input(tmp_path: Path, cli, trial, listing, where: str) -> None:
    first, second = trial(tmp_path / "t1"), trial(tmp_path / "best_model", "lr0.008")
    out = {
        "the-trial": first,
        "inside-the-trial": first / "selected",
        "an-output-is-a-trial": tmp_path,  # its best_model output would be the second trial
        "dotted": first / "checkpoints" / ".." / ".." / "t1",
    }[where]
    before = listing(tmp_path)
    metrics = (first / "metrics.json").read_text()
    result = cli(f"trials=[{first},{second}]", f"paths.output_dir={out}")
    assert result.returncode == 1
    assert result.stderr.startswith("select-best: error: output ") and "overlaps trial" in result.stderr
    assert "Traceback" not in result.stderr
    assert listing(tmp_path) == before and (first / "metrics.json").read_text() == metrics


def test_outputs_go_through_a_symlink_and_into_a_fifo(tmp_path: Path, run_component, trial) -> None:
    """In a pipeline the ExecutorOutput file may be a link or a pipe: written through, never replaced."""
    root = tmp_path / "pipeline-root" / "select-best"
    root.mkdir(parents=True)
    fifo = root / "executor_output.json"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    run = run_component([trial(tmp_path / "t1")], task_root=root)
    assert run.result.returncode == 0, run.result.stderr
    reader.join(timeout=10)
    assert stat.S_ISFIFO(fifo.stat().st_mode) and json.loads(received[0])["artifacts"]


def test_a_huge_confusion_matrix_is_not_drawn(tmp_path: Path, cli, trial) -> None:
    size = 2000
    winner = trial(tmp_path / "t1", metrics={"confusion_matrix": [[0] * size] * size, "class_names": None})
    out = tmp_path / "out"
    result = cli(f"trials=[{winner}]", f"paths.output_dir={out}")
    assert result.returncode == 0, result.stderr
    report = (out / "report.html").read_text()
    assert "2000 classes, more than the report draws (256)" in report and len(report) < 200_000


def test_the_table_escapes_html_markdown_and_terminal_controls(tmp_path: Path, cli, trial) -> None:
    """Parameter values are data: rendered as Markdown (Vertex AI shows the artifact) or printed to a
    terminal, none of them becomes markup or an escape sequence."""
    hostile = "<script>alert(1)</script> **bold** [x](javascript:1) `code` a|b \x1b]0;title\x07\x1b[2J"
    trials = [
        trial(tmp_path / "a", config={"experiment": hostile}),
        trial(tmp_path / "b", "lr0.008", config={"experiment": "plain"}),
    ]
    out = tmp_path / "out"
    result = cli(f"trials=[{trials[0]},{trials[1]}]", f"paths.output_dir={out}")
    assert result.returncode == 0, result.stderr
    table = (out / "table.md").read_text()
    assert table in result.stdout
    row = next(line for line in table.splitlines() if line.startswith("| 1 "))
    assert "<" not in row and "\x1b" not in row and "\x07" not in row
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt; \\*\\*bold\\*\\* \\[x\\](javascript:1) \\`code\\` a\\|b" in row
    )
    assert "\\\\x1b\\]0;title\\\\x07\\\\x1b\\[2J" in row  # rendered: \x1b]0;title\x07\x1b[2J
    header = next(line for line in table.splitlines() if line.startswith("| trial "))
    assert row.count(" | ") == header.count(" | ")  # the pipe in the value did not add a cell


def test_a_wild_validation_curve_is_bounded(tmp_path: Path, cli, trial) -> None:
    """Points outside [0, 1] are not accuracies and are left out; a curve is drawn up to MAX_CURVE_POINTS."""
    from select_best.trials import MAX_CURVE_POINTS

    curve = [1e12, -3.0, 0.5] + [0.6] * 100_000
    winner = trial(tmp_path / "t1", metrics={"val_accuracy_per_epoch": curve})
    out = tmp_path / "out"
    result = cli(f"trials=[{winner}]", f"paths.output_dir={out}")
    assert result.returncode == 0, result.stderr
    report = (out / "report.html").read_text()
    assert report.count("<circle") == MAX_CURVE_POINTS - 2 and len(report) < 1_000_000
