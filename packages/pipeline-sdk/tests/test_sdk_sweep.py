"""`-m` sweeps: Hydra's sweep grammar over the pipeline parameters, compiled to one ParallelFor of trials
and a selection step, run locally trial by trial; and their refusals."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline_sdk.compiler import compile_pipeline
from pipeline_sdk.params import quote_for_hydra, read_override_value
from pipeline_sdk.sweep import load_with_sweep

NASTY = 'a,b k=v [1,2] ${oc.env:SOME_SECRET} it\'s "q" back\\slash'


def trials_of(overrides: list[str]) -> list[dict[str, Any]]:
    _, sweep = load_with_sweep(overrides, None, multirun=True)
    assert sweep is not None
    return list(sweep.trials)


def test_trials_follow_hydras_grammar_and_order() -> None:
    trials = trials_of(["params.learning_rate=0.002,0.004", "params.batch_size=range(128,385,128)"])
    assert trials == [
        {"learning_rate": lr, "batch_size": bs} for lr in (0.002, 0.004) for bs in (128, 256, 384)
    ]
    assert trials_of(["params.seed=choice(3,1)"]) == [{"seed": 3}, {"seed": 1}]
    assert trials_of(["params.seed=sort(3,1,2)"]) == [{"seed": 1}, {"seed": 2}, {"seed": 3}]
    quoted = trials_of(["params.experiment='a,b',c,'x=y'"])
    assert [t["experiment"] for t in quoted] == ["a,b", "c", "x=y"]


def test_a_2x2_sweep_compiles_to_one_loop_of_four_trials_and_a_selection_step(
    tmp_path: Path, probe_select: Path
) -> None:
    overrides = [
        "params.learning_rate=0.002,0.004",
        "params.batch_size=128,256",
        f"sweep.steps.select-best.component={probe_select}",
        "sweep.max_parallel=3",
        "sweep.select.metric=val_loss",
        "sweep.select.goal=minimize",
    ]
    cfg, sweep = load_with_sweep(overrides, None, multirun=True)
    compiled = compile_pipeline(cfg, tmp_path / "sweep.yaml", sweep)
    spec = compiled.spec
    root = spec["root"]["dag"]["tasks"]
    loops = [name for name, task in root.items() if "parameterIterator" in task]
    assert len(loops) == 1 and set(root) == {"data-prepare", loops[0], "select-best"}
    loop = root[loops[0]]
    assert loop["iteratorPolicy"]["parallelismLimit"] == 3
    # each item a JSON string: Vertex AI cannot read fields of object items (docs/vertex-behaviour.md)
    items = json.loads(loop["parameterIterator"]["items"]["raw"])
    assert all(isinstance(item, str) for item in items)
    assert [json.loads(item) for item in items] == [
        {"learning_rate": lr, "batch_size": bs} for lr in (0.002, 0.004) for bs in (128, 256)
    ]
    # the swept parameters are the trials' values, not pipeline parameters; the others stay parameters
    assert set(spec["root"]["inputDefinitions"]["parameters"]) == {
        *("dataset", "source", "image_size", "channels", "epochs", "seed", "experiment")
    }
    inner = spec["components"][loop["componentRef"]["name"]]["dag"]["tasks"]
    assert list(inner) == ["train"]
    train = inner["train"]
    selectors = {k: v.get("parameterExpressionSelector") for k, v in train["inputs"]["parameters"].items()}
    assert selectors["learning_rate"] == 'parseJson(string_value)["learning_rate"]'
    assert selectors["epochs"] is None
    # caching and retries as for single runs
    single = compile_pipeline(cfg, tmp_path / "single.yaml").spec["root"]["dag"]["tasks"]["train"]
    assert train["cachingOptions"] == single["cachingOptions"]
    assert train["retryPolicy"] == single["retryPolicy"]
    select = root["select-best"]
    assert select["inputs"]["artifacts"]["trials"]["taskOutputArtifact"]["producerTask"] == loops[0]
    assert select["triggerPolicy"]["strategy"] == "ALL_UPSTREAM_TASKS_COMPLETED"
    assert "select-best" not in single
    # the selection step learns how to rank the trials, and which values each trial had
    constants = {k: v["runtimeValue"]["constant"] for k, v in select["inputs"]["parameters"].items()}
    assert constants["selection_metric"] == "val_loss" and constants["selection_goal"] == "minimize"
    assert json.loads(constants["trial_parameters"]) == [json.loads(item) for item in items]


def test_swept_strings_are_escaped_like_single_values(tmp_path: Path, probe_select: Path) -> None:
    overrides = [
        f"params.experiment='{quote_for_hydra(NASTY)}',plain",
        f"sweep.steps.select-best.component={probe_select}",
    ]
    cfg, sweep = load_with_sweep(overrides, None, multirun=True)
    spec = compile_pipeline(cfg, tmp_path / "sweep.yaml", sweep).spec
    loop = next(t for t in spec["root"]["dag"]["tasks"].values() if "parameterIterator" in t)
    items = json.loads(loop["parameterIterator"]["items"]["raw"])
    wired = [json.loads(item)["experiment"] for item in items]
    assert [read_override_value(f"experiment='{value}'") for value in wired] == [NASTY, "plain"]


def test_local_sweep_runs_trials_in_parallel_and_survives_a_failed_trial(
    sdk: Callable, probe_overrides: list[str], runs: Path
) -> None:
    result = sdk(
        "run",
        *probe_overrides,
        "-m",
        "params.experiment=probe-fail,ok",
        "params.learning_rate=0.1,0.2",
        "--parallel",
        "2",
        "--run-name",
        "sweep",
    )
    assert result.returncode == 0, result.stderr
    record = result.run_json()
    assert record["state"] == "SUCCEEDED"
    states = {t["trial"]: (t["parameters"], t["state"]) for t in record["trials"]}
    assert states == {
        1: ({"experiment": "probe-fail", "learning_rate": 0.1}, "FAILED"),
        2: ({"experiment": "probe-fail", "learning_rate": 0.2}, "FAILED"),
        3: ({"experiment": "ok", "learning_rate": 0.1}, "SUCCEEDED"),
        4: ({"experiment": "ok", "learning_rate": 0.2}, "SUCCEEDED"),
    }
    assert record["trials"][2]["metrics"]["train-trial-3"]["metrics"]["val_accuracy"] == 0.1
    assert "train-trial-1" in record["trials"][0]["error"]
    finished = [line for line in result.stderr.splitlines() if line.lstrip().startswith("trial ")]
    assert len(finished) == 4 and sum("FAILED" in line for line in finished) == 2
    # every trial reached the selection step, in trial order, the failed ones without output
    table = (runs / "sweep" / "select-best" / "table").read_text()
    rows = [row.split(" | ") for row in table.splitlines()[1:]]
    assert [(row[0], row[1].endswith(f"train-trial-{n}/model"), row[2]) for n, row in enumerate(rows, 1)] == [
        ("| 1", True, "False |"),
        ("| 2", True, "False |"),
        ("| 3", True, "True |"),
        ("| 4", True, "True |"),
    ]
    assert table.strip() in result.stderr
    assert (runs / "sweep" / "report.html").read_text().startswith("<html>")
    # two trials side by side share the cores
    threads = str(max(1, (os.cpu_count() or 1) // 2))
    assert f"probe: OMP_NUM_THREADS={threads}" in (runs / "sweep" / "train-trial-3" / "log.txt").read_text()
    assert f"select-best best_model: {runs / 'sweep' / 'select-best' / 'best_model'}" in result.stderr


def test_object_loop_items_fail_locally_as_on_vertex(
    probe_overrides: list[str], runs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kfp's own form for a list of dicts, object items, is what Vertex AI fails on (kubeflow/pipelines#12191);
    compiled that way, every trial fails before it starts, as there."""
    from pipeline_sdk import pipeline_shape
    from pipeline_sdk.local.runner import run_locally

    monkeypatch.setattr(pipeline_shape, "loop_items", lambda trials: trials)
    cfg, sweep = load_with_sweep([*probe_overrides, "params.learning_rate=0.1,0.2"], None, multirun=True)
    lines: list[str] = []
    record = run_locally(cfg, "objects", progress=lines.append, sweep=sweep).record.to_dict()
    errors = [trial["error"] for trial in record["trials"]]
    assert len(errors) == 2 and all(
        "input 'learning_rate': Failed to parseJson from string" in e for e in errors
    )
    assert record["tasks"]["train-trial-1"]["state"] == "FAILED"


def test_swept_strings_reach_each_trial_verbatim(sdk: Callable, probe_overrides: list[str]) -> None:
    result = sdk("run", *probe_overrides, "-m", f"params.experiment='{quote_for_hydra(NASTY)}',plain")
    assert result.returncode == 0, result.stderr
    received = [
        json.loads((result.run_dir / f"train-trial-{n}" / "model" / "received.json").read_text())[
            "experiment"
        ]
        for n in (1, 2)
    ]
    assert received == [NASTY, "plain"]
    # the selection step receives each trial's values as configured, through the executor input
    selection = json.loads((result.run_dir / "select-best" / "best_model" / "selection.json").read_text())
    assert json.loads(selection["trial_parameters"]) == [{"experiment": NASTY}, {"experiment": "plain"}]
    assert (selection["selection_metric"], selection["selection_goal"]) == ("val_accuracy", "maximize")


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (["-m", "steps.train.retries=1,2"], "only pipeline parameters (params.NAME) can be swept", 1),
        (["-m", "params.nope=1,2"], "no pipeline parameter params.nope", 1),
        (["-m", "params.learning_rate=interval(0,1)"], "only sweeps that list their values", 1),
        (["-m", "params.epochs=range(0)"], "the sweep has no values", 1),
        (["-m", "params.epochs=a,b"], "sweep trial 1 (epochs='a'): params.epochs: 'a' is not an Integer", 1),
        (["-m", "sweep.max_trials=3", "params.epochs=1,2", "params.seed=1,2"], "2 x 2 = 4 trials", 1),
        (["-m", "params.epochs=1,2", "params.epochs=3"], "params.epochs is both swept", 1),
        (
            ["-m", "sweep.max_trials=200", "params.epochs=range(1,12)", "params.seed=range(10)"],
            "at most 100",
            1,
        ),
        (["params.epochs=1,2"], "is a sweep over several values: add -m", 2),
        (
            ["-m", "params.epochs=1,2", "sweep.max_parallel=-1"],
            "sweep.max_parallel: must be 0 (no limit) or more",
            1,
        ),
        (["-m", "params.epochs=1,2", "sweep.max_trials=0"], "sweep.max_trials: must be at least 1, got 0", 1),
        (["-m", "params.epochs=1"], "-m needs at least one sweep", 2),
        (["-m", "params.epochs=1,2", "sweep.select.goal=up"], "sweep.select.goal: must be maximize or", 1),
        (
            ["-m", "params.epochs=1,2", "sweep.select.metric=test_accuracy"],
            "sweep.select.metric: 'test_accuracy': choosing by a test metric leaks the test set",
            1,
        ),
        (["-m", "params.epochs=range(1,70)"], "the sweep has 69 trials, more than sweep.max_trials=64", 1),
    ],
)
def test_bad_sweeps_are_refused_with_one_message_and_nothing_compiled(
    sdk: Callable, clean_error: Callable, tmp_path: Path, args: list[str], message: str | None, code: int
) -> None:
    out = tmp_path / "p.yaml"
    result = sdk("compile", "-o", str(out), *args)
    clean_error(result, *([message] if message else []), code=code)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not out.exists()


@pytest.mark.slow
def test_a_real_sweep_on_fashion_mnist_picks_by_validation_and_writes_a_report(
    sdk: Callable, runs: Path, tmp_path: Path
) -> None:
    """The README's sweep: two learning rates, one epoch each, on the OS copy of Fashion-MNIST."""
    if not Path("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz").exists():
        pytest.skip("Debian package dataset-fashion-mnist is not installed")
    result = sdk(
        "run", "-m", "params.learning_rate=0.002,0.004", "params.epochs=1", f"local.root={runs}",
        "--parallel", "2", "--run-name", "sweep", timeout=1800,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    record = result.run_json()
    assert [t["state"] for t in record["trials"]] == ["SUCCEEDED", "SUCCEEDED"]
    val = [t["metrics"][f"train-trial-{t['trial']}"]["metrics"]["val_accuracy"] for t in record["trials"]]
    chosen = record["metrics"]["select-best"]["metrics"]
    assert chosen["best_trial"] == 1 + val.index(max(val))
    assert chosen["val_accuracy"] == max(val) and chosen["test_accuracy"] > 0.8
    best = runs / "sweep" / "select-best" / "best_model"
    assert json.loads((best / "metrics.json").read_text())["val_accuracy"] == max(val)
    assert "| **" in result.stderr and f"select-best best_model: {best}" in result.stderr

    report = runs / "sweep" / "report.html"
    chromium = shutil.which("chromium") or shutil.which("chromium-headless-shell")
    if chromium is None:
        pytest.skip("chromium is not installed (Debian package chromium; .ci/run installs it)")
    image_module = pytest.importorskip("PIL.Image", reason="Pillow reads the screenshot")
    headless = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    shot = tmp_path / "report.png"
    subprocess.run(
        [*headless, f"--screenshot={shot}", "--window-size=1200,1600", report.as_uri()],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    image = image_module.open(shot).convert("RGB")
    background = image.getpixel((0, 0))
    drawn = sum(n for n, colour in image.getcolors(maxcolors=1 << 22) if colour != background)
    assert drawn > 0.05 * image.width * image.height  # not a blank page
    dom = subprocess.run(
        [*headless, "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert '<table class="trials">' in dom and dom.count('<polyline class="curve"') == 2


def test_ctrl_c_stops_every_running_trial(
    repo: Path, component: Callable, probe_overrides: list[str], runs: Path, tmp_path: Path
) -> None:
    pids = tmp_path / "pids"
    pids.mkdir()
    sleeper = component(
        "sleeper", "train",
        {"command": ["python", "-c", f"import os, time; open(os.path.join({str(pids)!r}, str(os.getpid())), 'w')"
                                     "; time.sleep(120)"]},
    )  # fmt: skip
    cmd = [
        str(Path(sys.executable).with_name("pipeline-sdk")), "run", *probe_overrides,
        f"steps.train.component={sleeper}", "-m", "params.learning_rate=0.1,0.2,0.3", "--parallel", "2",
        "--run-name", "r",
    ]  # fmt: skip
    # SIGINT as a terminal sends it: a runner started in the background may inherit SIG_IGN for it
    proc = subprocess.Popen(
        cmd, cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while len(list(pids.iterdir())) < 2:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.1)
    time.sleep(0.5)  # the pid file is written first thing: let both trials settle into their sleep
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "pipeline-sdk run: interrupted" in stderr and "Traceback" not in stderr
    record = json.loads((runs / "r" / "run.json").read_text())
    assert record["state"] == "CANCELLED"
    assert [t["state"] for t in record["trials"]] == ["CANCELLED", "CANCELLED", "CANCELLED"]
    assert record["tasks"]["train-trial-3"]["state"] == "SKIPPED"
    for pid in (int(p.name) for p in pids.iterdir()):
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_when_every_trial_fails_the_real_selection_step_fails_with_one_message(
    sdk: Callable, tiny_data_prepare: Path, probe_train: Path, runs: Path
) -> None:
    result = sdk(
        "run", f"steps.data-prepare.component={tiny_data_prepare}", f"steps.train.component={probe_train}",
        f"local.root={runs}", "-m", "params.experiment=probe-fail", "params.seed=1,2", "--run-name", "r",
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "every trial failed" in result.stderr
    assert "step 'select-best' failed with exit code 1" in result.stderr
    record = json.loads((runs / "r" / "run.json").read_text())
    assert record["state"] == "FAILED"
    assert [t["state"] for t in record["trials"]] == ["FAILED", "FAILED"]
    assert not (runs / "r" / "select-best" / "best_model").exists()


def test_a_sweep_steps_errors_name_the_key_it_is_configured_under(
    sdk: Callable, clean_error: Callable, tmp_path: Path
) -> None:
    spec = yaml.safe_load(
        (Path(__file__).parents[3] / "configs" / "components" / "select_best.yaml").read_text()
    )
    spec["deploymentSpec"]["executors"]["exec-select-best"]["container"]["image"] = "no-such-distribution-xyz"
    uninstalled = tmp_path / "select_uninstalled.yaml"
    uninstalled.write_text(yaml.safe_dump(spec))
    result = sdk(
        "compile", "-o", str(tmp_path / "p.yaml"), "-m", "params.seed=1,2",
        f"sweep.steps.select-best.component={uninstalled}",
    )  # fmt: skip
    clean_error(result, "sweep.steps.select-best.component: image 'no-such-distribution-xyz' names a package")


def test_build_images_takes_no_sweep(sdk: Callable, clean_error: Callable) -> None:
    clean_error(sdk("build-images", "--dry-run", "-m"), "unrecognized arguments: -m", code=2)


def test_a_markdown_output_reaches_the_terminal_without_its_control_characters() -> None:
    from pipeline_sdk.commands.run import printable

    text = "| 1 | \x1b]0;title\x07\x1b[2J |\n| 2 | tab\there \u202eevil |"
    assert printable(text) == "| 1 | \\x1b]0;title\\x07\\x1b[2J |\n| 2 | tab\there \\u202eevil |"
