"""Issue 25: the selection metric and goal are inputs, and the report names the swept pipeline parameters.

In a pipeline they arrive as the executor input's String parameters (``selection_metric``,
``selection_goal``, ``trial_parameters``); by hand as ``select.metric``, ``select.goal``,
``select.trial_parameters``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

LOSS = {"selection_metric": "val_loss", "selection_goal": "minimize"}


def _rows(text: str) -> list[list[str]]:
    """The Markdown table's rows (header first), as stripped cells without the bold marks."""
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    return [[c.strip().strip("*") for c in line.strip("|").split("|")] for line in lines]


def test_minimize_picks_the_lowest_value_ties_to_the_lower_trial(
    tmp_path: Path, run_component, trial
) -> None:
    trials = [
        trial(tmp_path / "a", metrics={"val_loss": 0.52, "val_accuracy": 0.90}),  # best accuracy, worst loss
        trial(tmp_path / "b", "lr0.008", metrics={"val_loss": 0.31, "val_accuracy": 0.80}),
        trial(tmp_path / "c", metrics={"val_loss": 0.31, "val_accuracy": 0.81}),
    ]
    run = run_component(trials, parameters=LOSS)
    assert run.result.returncode == 0, run.result.stderr
    best = run.output("best_model")
    assert run.result.stdout.rstrip().endswith(f"best: trial 2 (val_loss 0.31) -> {best}")
    assert (best / "model.pt").read_bytes() == (trials[1] / "model.pt").read_bytes()

    metrics = json.loads(run.output("metrics").read_text())
    assert metrics == {
        "val_accuracy": 0.80,
        "test_accuracy": pytest.approx(0.8271, abs=1e-3),
        "val_loss": 0.31,
        "best_trial": 2.0,
        "trials": 3.0,
        "failed_trials": 0.0,
    }
    selection = json.loads((best / "selection.json").read_text())
    assert selection["selection_metric"] == "val_loss"
    assert selection["selection_goal"] == "minimize"
    assert selection["val_loss"] == 0.31
    assert selection["rule"] == "min val_loss, ties to the lower trial number"
    executor_output = run.executor_output()["artifacts"]
    assert executor_output["metrics"]["artifacts"][0]["metadata"]["val_loss"] == 0.31
    assert executor_output["best_model"]["artifacts"][0]["metadata"]["selection_goal"] == "minimize"

    table = run.output("table").read_text()
    assert table.startswith("Best: trial 2 of 3 (val_loss 0.31); 0 failed.\n")
    assert (
        "Selection: lowest val_loss (in each trial's metrics.json); ties go to the lower trial number"
        in table
    )
    header, *rows = _rows(table)
    assert header[header.index("val loss") :] == [
        "val loss", "val accuracy", "test accuracy", "train time (s)", "state", "best",
    ]  # fmt: skip
    assert [r[header.index("val loss")] for r in rows] == ["0.52", "0.31", "0.31"]
    html = run.output("report").read_text()
    assert "Selection: lowest val_loss (in each trial&#x27;s metrics.json)" in html
    assert '<td class="num">0.31</td>' in html


def test_a_trial_without_the_metric_fails_and_the_reason_names_it(
    tmp_path: Path, run_component, trial
) -> None:
    without = trial(tmp_path / "t1", metrics={"val_accuracy": 0.99})  # would win on the default metric
    other = trial(tmp_path / "t2", "lr0.008", metrics={"f1_score": 0.7})
    odd = trial(tmp_path / "t3", metrics={"f1_score": "0.9"})
    run = run_component([without, other, odd], parameters={"selection_metric": "f1_score"})
    assert run.result.returncode == 0, run.result.stderr
    out = run.result.stdout
    assert f"trial 1 failed: {without / 'metrics.json'} has no numeric f1_score" in out
    assert f"trial 3 failed: {odd / 'metrics.json'} has no numeric f1_score" in out
    assert "best: trial 2 (f1_score 0.7)" in out
    assert json.loads(run.output("metrics").read_text())["failed_trials"] == 2


def test_an_accuracy_metric_keeps_the_range_check(tmp_path: Path, cli, trial) -> None:
    bad = trial(tmp_path / "t1", metrics={"best_val_accuracy": 5.0})
    good = trial(tmp_path / "t2", "lr0.008")
    result = cli(
        f"trials=[{bad},{good}]", f"paths.output_dir={tmp_path / 'out'}", "select.metric=best_val_accuracy"
    )
    assert result.returncode == 0, result.stderr
    assert "best_val_accuracy 5.0 is not an accuracy in \\[0, 1\\]" in result.stdout
    assert "best: trial 2 (best_val_accuracy 0.8286)" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["select.metric=test_accuracy"],
            "select.metric is 'test_accuracy': selecting on the test set leaks it; "
            "rank the trials on a validation metric such as val_accuracy",
        ),
        (["select.metric=Test_loss"], "select.metric is 'Test_loss': selecting on the test set leaks it"),
        (["select.goal=maximise"], "select.goal is 'maximise': give maximize or minimize"),
        (
            ["select.metric='a metric'"],
            "select.metric is 'a metric': give the key in each trial's metrics.json",
        ),
        (["select.metric=trials"], "select.metric is 'trials', a key select-best writes itself"),
        (["select.trial_parameters='{\"lr\": 1}'"], "select.trial_parameters is not a JSON list"),
    ],
)
def test_bad_settings_by_hand_are_one_line(tmp_path: Path, cli, trial, listing, args, message) -> None:
    trials = [trial(tmp_path / "trials" / "t1"), trial(tmp_path / "trials" / "t2", "lr0.008")]
    before = listing(tmp_path)
    result = cli(f"trials=[{trials[0]},{trials[1]}]", f"paths.output_dir={tmp_path / 'out'}", *args)
    assert result.returncode == 1
    assert result.stderr.startswith(f"select-best: error: {message}"), result.stderr
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert result.stdout == ""
    assert listing(tmp_path) == before


def test_a_test_metric_from_the_pipeline_is_refused(tmp_path: Path, run_component, trial, listing) -> None:
    run = run_component([trial(tmp_path / "t1")], parameters={"selection_metric": "test_accuracy"})
    assert run.result.returncode == 1
    assert run.result.stderr == (
        "select-best: error: selection_metric is 'test_accuracy': selecting on the test set leaks it; "
        "rank the trials on a validation metric such as val_accuracy\n"
    )
    assert listing(run.task_root) == []


SWEPT = [
    {"learning_rate": 0.002, "batch_size": 128, "note": "it's ${x} <b>"},  # data, never Hydra syntax or HTML
    {"learning_rate": 0.004, "batch_size": 128},
    {"learning_rate": 0.008, "batch_size": 128},
]


def test_trial_parameters_name_the_columns_for_every_trial(tmp_path: Path, run_component, trial) -> None:
    trials = [
        trial(tmp_path / "t1"),
        trial(tmp_path / "t2", files=("model.pt",)),  # crashed: no config.yaml, no metrics.json
        trial(tmp_path / "t3", "lr0.008"),
    ]
    run = run_component(trials, parameters={"trial_parameters": json.dumps(SWEPT)})
    assert run.result.returncode == 0, run.result.stderr
    table = run.output("table").read_text()
    header, *rows = _rows(table)
    assert header == [
        "trial", "learning_rate", "batch_size", "note", "val accuracy", "test accuracy", "train time (s)", "state", "best",
    ]  # fmt: skip
    assert [r[:4] for r in rows] == [
        ["1", "0.002", "128", "it's ${x} &lt;b&gt;"], ["2", "0.004", "128", "-"], ["3", "0.008", "128", "-"],
    ]  # fmt: skip
    assert rows[1][-2:] == ["failed", ""]
    assert "model.optimizer.lr" not in table
    html = run.output("report").read_text()
    failed = re.search(r'<tr class="failed">(.*?)</tr>', html).group(1)
    assert "<td>0.004</td><td>128</td><td>-</td>" in failed
    assert "<td>it&#x27;s ${x} &lt;b&gt;</td>" in html
    assert "<th>learning_rate</th><th>batch_size</th>" in html
    selection = json.loads((run.output("best_model") / "selection.json").read_text())
    assert selection["parameters"] == SWEPT[2]


@pytest.mark.parametrize(
    "override",
    [
        "select.trial_parameters='"
        + json.dumps([{"lr": 0.002, "note": "it's"}, {"lr": 0.008, "note": "b"}]).replace("'", "\\'")
        + "'",
        "select.trial_parameters=[{lr: 0.002, note: 'it\\'s'},{lr: 0.008, note: b}]",  # a Hydra list
    ],
)
def test_trial_parameters_by_hand(tmp_path: Path, cli, trial, override: str) -> None:
    trials = [trial(tmp_path / "t1"), trial(tmp_path / "t2", "lr0.008")]
    result = cli(f"trials=[{trials[0]},{trials[1]}]", f"paths.output_dir={tmp_path / 'out'}", override)
    assert result.returncode == 0, result.stderr
    header, *rows = _rows(result.stdout)
    assert header[:3] == ["trial", "lr", "note"]
    assert [r[:3] for r in rows] == [["1", "0.002", "it's"], ["2", "0.008", "b"]]


def test_without_trial_parameters_a_failed_trial_shows_its_known_parameters(
    tmp_path: Path, cli, trial
) -> None:
    no_val = trial(tmp_path / "t1", metrics={"val_accuracy": None})  # failed, but its config.yaml is there
    gone = trial(tmp_path / "t2", files=("model.pt",))
    fine = trial(tmp_path / "t3", "lr0.008")
    result = cli(f"trials=[{no_val},{gone},{fine}]", f"paths.output_dir={tmp_path / 'out'}")
    assert result.returncode == 0, result.stderr
    header, *rows = _rows(result.stdout)
    lr = header.index("model.optimizer.lr")
    assert [(r[lr], r[-2]) for r in rows] == [("0.002", "failed"), ("-", "failed"), ("0.008", "succeeded")]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[{", "trial_parameters is not valid JSON: "),
        (
            '{"learning_rate": 0.002}',
            "trial_parameters is not a JSON list (one object of parameters per trial)",
        ),
        ('[{"lr": 1}, 2]', "trial_parameters: item 2 is not a JSON object (trial 2's parameters)"),
        ('[{"lr": 1}]', "trial_parameters lists 1 trials, but the trials input has 2"),
        ('[{"lr": NaN}, {"lr": 1}]', "trial_parameters is not valid JSON: NaN is not a JSON number"),
        (["not", "text"], "trial_parameters: item 1 is not a JSON object"),
        (7, "trial_parameters is not a JSON list"),
    ],
)
def test_malformed_trial_parameters_are_one_line_and_nothing_is_written(
    tmp_path: Path, run_component, trial, listing, value, message
) -> None:
    trials = [trial(tmp_path / "t1"), trial(tmp_path / "t2", "lr0.008")]
    run = run_component(trials, parameters={"trial_parameters": value})
    assert run.result.returncode == 1
    assert run.result.stderr.startswith(f"select-best: error: {message}"), run.result.stderr
    assert len(run.result.stderr.splitlines()) == 1
    assert run.result.stdout == ""
    assert listing(run.task_root) == []


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"selection_goal": "best"}, "selection_goal is 'best': give maximize or minimize"),
        ({"selection_metric": ""}, "selection_metric is '': give the key"),
        ({"selection_metric": 3}, "selection_metric is 3: give the key"),
    ],
)
def test_bad_selection_parameters_are_one_line(
    tmp_path: Path, run_component, trial, listing, parameters, message
):
    run = run_component([trial(tmp_path / "t1")], parameters=parameters)
    assert run.result.returncode == 1
    assert run.result.stderr.startswith(f"select-best: error: {message}"), run.result.stderr
    assert len(run.result.stderr.splitlines()) == 1
    assert listing(run.task_root) == []


@pytest.mark.parametrize("absent", ["parameters", "parameterValues"])
def test_absent_parameters_take_the_defaults(tmp_path: Path, cli, run_component, trial, absent) -> None:
    trials = [
        trial(tmp_path / "t1", metrics={"val_accuracy": 0.85, "val_loss": 0.1}),
        trial(tmp_path / "t2", "lr0.008", metrics={"val_accuracy": 0.80, "val_loss": 0.9}),
    ]
    run = run_component(trials, parameters={})  # an older compiled pipeline: none of the three
    executor_input = run.executor_input
    if absent == "parameterValues":
        executor_input.get("inputs", {}).pop("parameterValues", None)
        run.output_file.unlink()
        result = cli(f"kfp.executor_input='{json.dumps(executor_input)}'")
    else:
        result = run.result
    assert result.returncode == 0, result.stderr
    assert "best: trial 1 (val_accuracy 0.8500)" in result.stdout
    assert "Selection: highest validation accuracy (val_accuracy of the saved weights)" in result.stdout
    selection = json.loads((run.output("best_model") / "selection.json").read_text())
    assert (selection["selection_metric"], selection["selection_goal"]) == ("val_accuracy", "maximize")
    assert selection["rule"] == "max val_accuracy, ties to the lower trial number"
    assert "val_loss" not in json.loads(run.output("metrics").read_text())
    assert "model.optimizer.lr" in run.output("table").read_text()
