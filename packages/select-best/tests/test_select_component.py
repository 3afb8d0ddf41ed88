"""The component run as a KFP backend runs it: a kfp-built executor input with a list of trial artifacts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def test_best_is_chosen_by_validation_accuracy_not_test_accuracy(
    tmp_path: Path, run_component, trial
) -> None:
    # trial 1 has the better test accuracy, trial 2 the better validation accuracy: 2 must win
    t1 = trial(tmp_path / "t1", "lr0.002", metrics={"val_accuracy": 0.80, "test_accuracy": 0.90})
    t2 = trial(tmp_path / "t2", "lr0.008", metrics={"val_accuracy": 0.85, "test_accuracy": 0.81})
    run = run_component([t1, t2])
    assert run.result.returncode == 0, run.result.stderr
    best = run.output("best_model")
    assert run.result.stdout.rstrip().endswith(f"best: trial 2 (val_accuracy 0.8500) -> {best}")
    for name in ("model.pt", "config.yaml", "metrics.json"):
        assert (best / name).read_bytes() == (t2 / name).read_bytes()
    assert not (best / "checkpoints").exists()
    selection = json.loads((best / "selection.json").read_text())
    assert selection["best_trial"] == 2
    assert selection["source"] == str(t2)
    assert selection["parameters"] == {"model.optimizer.lr": 0.008, "model.scheduler.max_lr": 0.008}

    expected = {
        "val_accuracy": 0.85,
        "test_accuracy": 0.81,
        "best_trial": 2.0,
        "trials": 2.0,
        "failed_trials": 0.0,
    }
    assert json.loads(run.output("metrics").read_text()) == expected
    table = run.output("table").read_text()
    assert table in run.result.stdout
    assert "| **2** | **0.008** | **0.008** | **0.8500** | **0.8100** |" in table
    assert run.output("report").read_text().startswith("<!DOCTYPE html>")


def test_kfp_reads_every_output_from_the_executor_output(tmp_path: Path, run_component, trial) -> None:
    from google.protobuf import json_format
    from kfp import components
    from kfp.local import executor_output_utils
    from kfp.pipeline_spec import pipeline_spec_pb2

    trials = [trial(tmp_path / "t1"), trial(tmp_path / "t2", "lr0.008")]
    run = run_component(trials)
    assert run.result.returncode == 0, run.result.stderr
    spec = components.load_component_from_file(
        str(Path(__file__).resolve().parents[3] / "configs/components/select_best.yaml")
    ).pipeline_spec.components["comp-select-best"]
    message = json_format.ParseDict(run.executor_input, pipeline_spec_pb2.ExecutorInput())
    outputs = executor_output_utils.get_outputs_for_task(message, spec)
    assert sorted(outputs) == ["best_model", "metrics", "report", "table"]
    assert outputs["metrics"].metadata["best_trial"] == 2
    assert outputs["metrics"].metadata["failed_trials"] == 0
    assert outputs["best_model"].metadata["source"] == str(trials[1])
    assert outputs["report"].path == str(run.output("report"))


def test_a_tie_goes_to_the_lower_trial_number(tmp_path: Path, run_component, trial) -> None:
    trials = [
        trial(tmp_path / "a", "lr0.008", metrics={"val_accuracy": 0.7}),
        trial(tmp_path / "b", "lr0.002", metrics={"val_accuracy": 0.8, "test_accuracy": 0.5}),
        trial(tmp_path / "c", "lr0.008", metrics={"val_accuracy": 0.8, "test_accuracy": 0.9}),
    ]
    run = run_component(trials)
    assert run.result.returncode == 0, run.result.stderr
    assert "best: trial 2 (val_accuracy 0.8000)" in run.result.stdout


def test_failed_trials_are_shown_and_never_picked(tmp_path: Path, run_component, trial) -> None:
    crashed = trial(tmp_path / "crashed", "lr0.008", files=("model.pt",))  # no metrics.json: did not finish
    broken = trial(tmp_path / "broken", "lr0.008", metrics={"val_accuracy": 0.99})
    (broken / "metrics.json").write_text('{"val_accuracy": 0.99,')  # cut short
    fine = trial(tmp_path / "fine", "lr0.002")
    missing = tmp_path / "never-written"
    run = run_component([crashed, broken, fine, missing])
    assert run.result.returncode == 0, run.result.stderr
    out = run.result.stdout
    assert "best: trial 3 (val_accuracy 0.8120)" in out
    rows = [line for line in out.splitlines() if line.startswith("| ")][1:]
    assert [r.split("|")[-3].strip().strip("*") for r in rows] == ["failed", "failed", "succeeded", "failed"]
    assert f"trial 1 failed: no metrics.json in {crashed} (the trial did not finish)" in out
    assert f"trial 2 failed: {broken / 'metrics.json'} is not valid JSON" in out
    assert f"trial 4 failed: no trial directory {missing}" in out
    assert json.loads(run.output("metrics").read_text())["failed_trials"] == 3
    assert (run.output("best_model") / "model.pt").read_bytes() == (fine / "model.pt").read_bytes()


def test_a_trial_without_validation_accuracy_is_not_ranked(tmp_path: Path, run_component, trial) -> None:
    no_val = trial(tmp_path / "t1", "lr0.008", metrics={"val_accuracy": None, "test_accuracy": 0.99})
    run = run_component([no_val, trial(tmp_path / "t2")])
    assert run.result.returncode == 0, run.result.stderr
    assert "has no numeric val_accuracy (trained without a validation split?)" in run.result.stdout
    assert "best: trial 2" in run.result.stdout


def test_every_trial_failed_is_one_error_and_nothing_is_written(
    tmp_path: Path, run_component, listing, trial
) -> None:
    trials = [trial(tmp_path / "t1", files=("model.pt",)), tmp_path / "gone"]
    run = run_component(trials)
    assert run.result.returncode == 1
    assert run.result.stdout == ""
    lines = run.result.stderr.splitlines()
    assert len(lines) == 1, run.result.stderr
    assert lines[0].startswith(
        "select-best: error: all 2 trials failed, nothing to select (trial 1: no metrics.json"
    )
    assert listing(run.task_root) == []


def test_no_trials_at_all_is_one_error_and_nothing_is_written(tmp_path: Path, run_component, listing) -> None:
    # the trials input is optional: when every trial failed upstream, kfp leaves it out of the executor input
    run = run_component([])
    assert "trials" not in run.executor_input.get("inputs", {}).get("artifacts", {})
    assert run.result.returncode == 1
    assert run.result.stderr == (
        "select-best: error: no trials to choose from (the trials input is empty: no trial produced a model)\n"
    )
    assert listing(run.task_root) == []


def test_trial_paths_with_quotes_dollars_and_backslashes_stay_data(
    tmp_path: Path, run_component, trial
) -> None:
    # the backend pastes raw JSON into '...'; paths like these would otherwise end the Hydra string or interpolate
    odd = tmp_path / 'it\'s ${oc.env:HOME} \\ "x" é'
    trials = [trial(odd / "t1"), trial(odd / "t2", "lr0.008")]
    run = run_component(trials, task_root=odd / "select-best")
    assert run.result.returncode == 0, run.result.stderr
    assert f"-> {odd / 'select-best' / 'best_model'}" in run.result.stdout
    assert json.loads(run.output("metrics").read_text())["best_trial"] == 2
    assert run.executor_output()["artifacts"]["best_model"]["artifacts"][0]["metadata"]["source"] == str(
        trials[1]
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            '\'{"inputs": {"artifacts": \'',
            "kfp.executor_input is not valid JSON: Expecting value: line 1 column 26",
        ),
        ("'[1, 2]'", "kfp.executor_input is not a JSON object"),
        ("'{\"outputs\": {}}'", "kfp.executor_input has no outputs.artifacts"),
        (
            '\'{"inputs": {"artifacts": {"trials": {"artifacts": []}}}, "outputs": {"artifacts": {}}}\'',
            "kfp.executor_input has no outputs.artifacts.best_model",
        ),
    ],
)
def test_a_bad_executor_input_is_one_line(tmp_path: Path, cli, listing, value: str, message: str) -> None:
    result = cli(f"kfp.executor_input={value}")
    assert result.returncode == 1
    assert result.stderr == f"select-best: error: {message}\n" or result.stderr.startswith(
        f"select-best: error: {message}"
    ), result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert [p.name for p in listing(tmp_path)] == []


def test_an_unknown_uri_scheme_is_one_line(tmp_path: Path, run_component, trial, cli) -> None:
    run = run_component([trial(tmp_path / "t1")])
    executor_input = run.executor_input
    executor_input["inputs"]["artifacts"]["trials"]["artifacts"][0]["uri"] = "hdfs://cluster/trial"
    result = cli(f"kfp.executor_input='{json.dumps(executor_input)}'")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "select-best: error: artifact URI 'hdfs://cluster/trial' is neither a local path nor one of "
        "gs://, minio://, s3://"
    )


def test_an_unwritable_output_is_one_line_and_leaves_nothing(
    tmp_path: Path, run_component, listing, trial
) -> None:
    blocker = tmp_path / "pipeline-root"
    blocker.write_text("a file where the task root should be")
    run = run_component([trial(tmp_path / "t1")], task_root=blocker / "select-best")
    assert run.result.returncode == 1
    assert run.result.stderr == (
        f"select-best: error: cannot write {blocker / 'select-best' / 'best_model'}: {blocker} is not a directory\n"
    )
    assert len(run.result.stderr.splitlines()) == 1
    assert blocker.read_text() == "a file where the task root should be"


def test_a_failure_midway_removes_what_this_run_wrote(tmp_path: Path, run_component, listing, trial) -> None:
    root = tmp_path / "pipeline-root" / "select-best"
    (root / "table").mkdir(
        parents=True
    )  # the table output cannot be written: best_model, metrics... come first
    run = run_component([trial(tmp_path / "t1")], task_root=root)
    assert run.result.returncode == 1
    assert (
        run.result.stderr
        == f"select-best: error: cannot write {root / 'table'}: not a regular file (a directory)\n"
    )
    assert listing(root) == [root / "table"]
