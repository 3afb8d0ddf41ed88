"""`pipeline-sdk run`: the compiled pipeline executed locally, end to end, and its failure paths."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline_sdk.params import quote_for_hydra

NASTY_EXPERIMENT = 'a,b x y k=v [1,2] {c: d} ${oc.env:SOME_SECRET} it\'s "q" back\\slash'


def cli_string(key: str, value: str) -> str:
    """A Hydra command-line override that sets ``key`` to exactly ``value`` in pipeline-sdk's config."""
    return f"{key}='{quote_for_hydra(value)}'"


@pytest.fixture
def run_probe(sdk: Callable, tiny_data_prepare: Path, probe_train: Path, runs: Path) -> Callable:
    """`pipeline-sdk run ARGS...` of the tiny data-prepare step and the probe trainer, under ``runs``."""

    def run(*args: str, env: dict[str, str] | None = None) -> Any:
        return sdk(
            "run",
            f"steps.data-prepare.component={tiny_data_prepare}",
            f"steps.train.component={probe_train}",
            f"local.root={runs}",
            *args,
            env=env,
        )

    return run


@pytest.mark.parametrize("value", [NASTY_EXPERIMENT, "${oc.env:SOME_SECRET}", "trailing\\"])
def test_string_parameters_arrive_verbatim_in_the_hydra_app(run_probe: Callable, value: str) -> None:
    result = run_probe(cli_string("params.experiment", value), env={"SOME_SECRET": "hunter2"})
    assert result.returncode == 0, result.stderr
    run_dir = result.run_dir
    received = json.loads((run_dir / "train" / "model" / "received.json").read_text())
    assert received["experiment"] == value
    assert "hunter2" not in (run_dir / "train" / "log.txt").read_text()
    assert "hunter2" not in (run_dir / "run.json").read_text()
    record = result.run_json()
    assert record["parameters"]["experiment"] == value
    assert record["metrics"]["train"]["metrics"]["experiment_chars"] == len(value)


def test_show_logs_streams_step_output(run_probe: Callable) -> None:
    result = run_probe("--show-logs")
    assert result.returncode == 0, result.stderr
    assert "  | probe: experiment='fashion_mnist_cnn'" in result.stderr
    assert "probe: experiment=" not in result.stdout


def test_without_show_logs_only_progress_lines_reach_the_console(run_probe: Callable) -> None:
    result = run_probe()
    assert result.returncode == 0, result.stderr
    assert "probe: experiment=" not in result.stderr  # in the step's log only
    assert "probe: experiment=" in (result.run_dir / "train" / "log.txt").read_text()


def test_tiny_pipeline_end_to_end_with_the_real_packages(
    sdk: Callable, tiny_data_prepare: Path, tiny_train: Path, runs: Path
) -> None:
    result = sdk(
        "run",
        f"steps.data-prepare.component={tiny_data_prepare}",
        f"steps.train.component={tiny_train}",
        f"local.root={runs}",
        "params.epochs=2",
        "params.batch_size=32",
        "--run-name",
        "tiny",
    )
    assert result.returncode == 0, result.stderr
    run_dir = result.run_dir
    assert run_dir == runs / "tiny"
    assert "ignoring the steps' Vertex resources (train: 1 x NVIDIA_L4, cpu 8, memory 32G)" in result.stderr
    assert "[1/2] data-prepare: running" in result.stderr and "[2/2] train: succeeded" in result.stderr
    # the trainer's progress shows on the console without --show-logs, and nothing else of its log
    echoed = [line for line in result.stderr.splitlines() if line.startswith("  | ")]
    assert [line for line in echoed if "epoch 1/2 done" in line] and [
        x for x in echoed if "epoch 2/2 done" in x
    ]
    assert all("epoch " in line for line in echoed), echoed

    record = result.run_json()
    assert record["state"] == "SUCCEEDED"
    assert {name: task["state"] for name, task in record["tasks"].items()} == {
        "data-prepare": "SUCCEEDED",
        "train": "SUCCEEDED",
    }
    dataset = Path(record["tasks"]["data-prepare"]["outputs"]["dataset"]["uri"])
    assert dataset == run_dir / "data-prepare" / "dataset"
    assert json.loads((dataset / "manifest.json").read_text())["counts"] == {"train": 200, "test": 50}
    model_dir = Path(record["tasks"]["train"]["outputs"]["model"]["uri"])
    assert model_dir == run_dir / "train" / "model"
    import torch  # only this test needs it: keeps collection fast

    state = torch.load(model_dir / "model.pt", weights_only=True)
    assert state and all(isinstance(v, torch.Tensor) for v in state.values())
    trained = json.loads((model_dir / "metrics.json").read_text())
    metrics = record["metrics"]["train"]["metrics"]
    assert metrics["test_accuracy"] == pytest.approx(trained["test_accuracy"])
    assert f"test_accuracy={metrics['test_accuracy']:.4g}" in result.stderr
    assert "confusionMatrix" in record["metrics"]["train"]["classification_metrics"]
    assert len(trained["epoch_times_s"]) == 2
    for task in ("data-prepare", "train"):
        assert (run_dir / task / "log.txt").read_text().startswith("$ ")
    assert (run_dir / "pipeline.yaml").is_file()


def test_failing_step_fails_fast_with_its_log_tail(
    run_probe: Callable, clean_error: Callable, runs: Path
) -> None:
    result = run_probe("--run-name", "broken", env={"PROBE_FAIL": "1"})
    clean_error(
        result, "pipeline-sdk run: error: step 'train' failed with exit code 3", "probe: failing on purpose"
    )
    record = json.loads((runs / "broken" / "run.json").read_text())
    assert record["state"] == "FAILED"
    assert record["tasks"]["data-prepare"]["state"] == "SUCCEEDED"
    assert record["tasks"]["train"]["state"] == "FAILED"
    assert record["tasks"]["train"]["exit_code"] == 3


def test_a_failing_first_step_skips_the_rest(
    sdk: Callable, clean_error: Callable, component: Callable, runs: Path, tiny_dataset
) -> None:
    spec = yaml.safe_load(
        (Path(__file__).resolve().parents[3] / "configs/components/data_prepare.yaml").read_text()
    )
    args = [a for a in spec["implementation"]["container"]["args"] if not a.startswith("source=")]
    accepted = tiny_dataset.data_prepare_args()
    wrong = [a.replace("dataset.counts.train=200", "dataset.counts.train=999") for a in accepted]
    assert wrong != accepted
    wrong_counts = component("wrong_counts", "data_prepare", {"args": [*args, *wrong]})
    result = sdk(
        "run", f"steps.data-prepare.component={wrong_counts}", f"local.root={runs}", "--run-name", "r"
    )
    clean_error(result, "step 'data-prepare' failed with exit code")
    record = json.loads((runs / "r" / "run.json").read_text())
    assert [record["tasks"][t]["state"] for t in ("data-prepare", "train")] == ["FAILED", "SKIPPED"]


def test_missing_console_script_is_a_clear_error(
    sdk: Callable, clean_error: Callable, component: Callable, runs: Path
) -> None:
    ghost = component("ghost", "data_prepare", {"command": ["no-such-console-script-xyz"]})
    result = sdk("run", f"steps.data-prepare.component={ghost}", f"local.root={runs}", "--run-name", "r")
    clean_error(result, "step 'data-prepare' cannot run 'no-such-console-script-xyz'")
    assert json.loads((runs / "r" / "run.json").read_text())["tasks"]["data-prepare"]["state"] == "FAILED"


def test_a_step_that_writes_no_output_artifact_fails(
    sdk: Callable, clean_error: Callable, component: Callable, runs: Path
) -> None:
    lazy = component("lazy", "data_prepare", {"command": ["python", "-c", "print('did nothing')"]})
    result = sdk("run", f"steps.data-prepare.component={lazy}", f"local.root={runs}")
    clean_error(result, "step 'data-prepare' exited 0 but did not write its output artifact 'dataset'")


def test_config_errors_leave_no_run_directory(sdk: Callable, clean_error: Callable, runs: Path) -> None:
    result = sdk("run", f"local.root={runs}", "steps.train.resources.accelerator_type=TPU_V9000")
    clean_error(
        result, "steps.train.resources.accelerator_type: 'TPU_V9000' is not a Vertex AI accelerator type"
    )
    assert not runs.exists() or not any(runs.iterdir())


def test_an_unusable_local_root_is_a_clear_error(
    sdk: Callable, clean_error: Callable, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    clean_error(sdk("run", f"local.root={blocker}"), "cannot create run directory")


def test_an_existing_run_name_is_refused(sdk: Callable, clean_error: Callable, runs: Path) -> None:
    (runs / "taken").mkdir(parents=True)
    clean_error(sdk("run", f"local.root={runs}", "--run-name", "taken"), "run directory", "already exists")


def start_run_with_a_sleeping_step(
    repo: Path, component: Callable, tiny_data_prepare: Path, runs: Path, pid_file: Path
) -> subprocess.Popen[str]:
    """`pipeline-sdk run` whose train step writes its pid to ``pid_file`` and sleeps; returns once it sleeps."""
    sleeper = component(
        "sleeper",
        "train",
        {
            "command": [
                "python",
                "-c",
                f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(120)",
            ]
        },
    )
    cmd = [
        str(Path(sys.executable).with_name("pipeline-sdk")),
        "run",
        f"steps.data-prepare.component={tiny_data_prepare}",
        f"steps.train.component={sleeper}",
        f"local.root={runs}",
        "--run-name",
        "r",
    ]
    proc = subprocess.Popen(cmd, cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not pid_file.exists() or not pid_file.read_text():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return proc


def wait_gone(pid: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_stops_the_step_and_records_the_cancellation(
    repo: Path, component: Callable, tiny_data_prepare: Path, runs: Path, tmp_path: Path, sig: signal.Signals
) -> None:
    pid_file = tmp_path / "child.pid"
    with start_run_with_a_sleeping_step(repo, component, tiny_data_prepare, runs, pid_file) as proc:
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "pipeline-sdk run: interrupted" in stderr and "Traceback" not in stderr
    record = json.loads((runs / "r" / "run.json").read_text())
    assert record["state"] == "CANCELLED"
    assert record["tasks"]["train"]["state"] == "CANCELLED"
    assert wait_gone(int(pid_file.read_text()), timeout=1)


def test_a_killed_runner_takes_its_step_down(
    repo: Path, component: Callable, tiny_data_prepare: Path, runs: Path, tmp_path: Path
) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("parent-death signal is Linux-only")
    pid_file = tmp_path / "child.pid"
    with start_run_with_a_sleeping_step(repo, component, tiny_data_prepare, runs, pid_file) as proc:
        proc.kill()
        proc.communicate(timeout=60)
    assert wait_gone(int(pid_file.read_text()))


@pytest.mark.slow
def test_default_pipeline_on_real_fashion_mnist(sdk: Callable, runs: Path) -> None:
    """The README quickstart: `pipeline-sdk run` with the default config on the OS copy of Fashion-MNIST."""
    if not Path("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz").exists():
        pytest.skip("Debian package dataset-fashion-mnist is not installed")
    result = sdk("run", f"local.root={runs}", "--run-name", "real", timeout=1800)
    assert result.returncode == 0, result.stderr
    record = result.run_json()
    assert record["state"] == "SUCCEEDED"
    manifest = json.loads((runs / "real" / "data-prepare" / "dataset" / "manifest.json").read_text())
    assert manifest["counts"] == {"train": 60000, "test": 10000}
    accuracy = record["metrics"]["train"]["metrics"]["test_accuracy"]
    assert accuracy > 0.85, accuracy
    assert "train metrics:" in result.stderr and "test_accuracy=" in result.stderr


def test_the_real_trainer_receives_a_secret_reference_as_text(
    sdk: Callable, tiny_data_prepare: Path, runs: Path
) -> None:
    """The trainer's `experiment` is a config-group choice: the reference reaches Hydra unexpanded."""
    result = sdk(
        "run",
        f"steps.data-prepare.component={tiny_data_prepare}",
        f"local.root={runs}",
        cli_string("params.experiment", "${oc.env:SOME_SECRET}"),
        "--run-name",
        "r",
        env={"SOME_SECRET": "hunter2"},
    )
    assert result.returncode == 1
    assert "Could not find 'experiment/${oc.env:SOME_SECRET}'" in result.stderr
    assert "hunter2" not in result.stderr
    assert "hunter2" not in (runs / "r" / "train" / "log.txt").read_text()
