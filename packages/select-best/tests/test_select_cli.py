"""``select-best`` run by hand: trial directories in, outputs under paths.output_dir; its error paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def test_trial_directories_by_hand(tmp_path: Path, cli, trial) -> None:
    trials = [trial(tmp_path / "multirun" / "0"), trial(tmp_path / "multirun" / "1", "lr0.008")]
    out = tmp_path / "selected"
    result = cli(f"trials=[{trials[0]},{trials[1]}]", f"paths.output_dir={out}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith(f"best: trial 2 (val_accuracy 0.8286) -> {out / 'best_model'}")
    assert sorted(p.name for p in out.iterdir()) == ["best_model", "metrics.json", "report.html", "table.md"]
    assert sorted(p.name for p in (out / "best_model").iterdir()) == [
        "config.yaml", "metrics.json", "model.pt", "selection.json",
    ]  # fmt: skip
    assert json.loads((out / "metrics.json").read_text())["best_trial"] == 2
    assert (out / "table.md").stat().st_mode & 0o777 == 0o644


def test_only_parameters_that_differ_are_columns(tmp_path: Path, cli, trial) -> None:
    trials = [
        trial(tmp_path / "a", config={"data.batch_size": 128}),
        trial(tmp_path / "b", config={"data.batch_size": 256}),
        trial(tmp_path / "c", "lr0.008", config={"data.batch_size": 256}),
    ]
    result = cli(f"trials=[{','.join(map(str, trials))}]", f"paths.output_dir={tmp_path / 'out'}")
    assert result.returncode == 0, result.stderr
    header = next(line for line in result.stdout.splitlines() if line.startswith("| trial"))
    # the learning rate (and the scheduler's max_lr, which follows it) and the batch size; no paths,
    # checkpoint or log directories, although those differ too
    assert header == (
        "| trial | data.batch_size | model.optimizer.lr | model.scheduler.max_lr | val accuracy | "
        "test accuracy | train time (s) | state | best |"
    )


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["paths.output_dir=/tmp/x"],
        ["trials=[/tmp/a]"],
        ["trials=[/tmp/a]", "paths.output_dir=/tmp/x", "kfp.executor_input='{}'"],
    ],
)
def test_missing_or_conflicting_inputs_are_one_line(tmp_path: Path, cli, listing, args: list[str]) -> None:
    result = cli(*args)
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("select-best: error: ")
    assert "trials" in result.stderr
    assert listing(tmp_path) == []


def test_an_unknown_key_is_hydras_one_line(cli) -> None:
    result = cli("trails=[/tmp/a]")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "Key 'trails' is not in struct" in result.stderr


def test_help_states_the_selection_rule(cli) -> None:
    result = cli("--help")
    assert result.returncode == 0
    assert "highest validation accuracy" in result.stdout
    assert "Test accuracy is shown but never used to choose" in result.stdout


def test_a_trial_with_an_unreadable_config_still_counts(tmp_path: Path, cli, trial) -> None:
    t1 = trial(tmp_path / "t1", config={"data.batch_size": 64})
    t2 = trial(tmp_path / "t2", "lr0.008")
    (t2 / "config.yaml").write_text("model: [unclosed\n")
    result = cli(f"trials=[{t1},{t2}]", f"paths.output_dir={tmp_path / 'out'}")
    assert result.returncode == 0, result.stderr
    assert "best: trial 2 (val_accuracy 0.8286)" in result.stdout
    assert f"- trial 2: parameters unknown (cannot read {t2 / 'config.yaml'}: " in result.stdout
    # with one readable config nothing differs, so no parameter columns
    assert "| trial | val accuracy |" in result.stdout
