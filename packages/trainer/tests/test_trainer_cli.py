"""The console script as users and pipelines run it: a subprocess, Hydra overrides, exit codes, stderr."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest
import torch


def _no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr


def test_help_lists_groups(run_cli) -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    assert "trainer: train an image classifier" in result.stdout
    for group in (
        "data:",
        "model: cnn, mlp",
        "trainer:",
        "callbacks:",
        "logger:",
        "paths:",
        "experiment:",
        "debug:",
    ):
        assert group in result.stdout


def test_cfg_job_shows_the_pipeline_keys(run_cli) -> None:
    result = run_cli("--cfg", "job", "experiment=fashion_mnist_cnn", "model.optimizer.lr=0.01", "seed=7")
    assert result.returncode == 0, result.stderr
    assert "_target_: trainer.models.SmallCNN" in result.stdout
    assert "lr: 0.01" in result.stdout and "seed: 7" in result.stdout
    assert "output_file: null" in result.stdout and "classification_metrics_path: null" in result.stdout


def test_train_and_artifact(run_cli, fast, tiny_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    result = run_cli(f"data.data_dir={tiny_data}", f"paths.output_dir={out}", "trainer.max_epochs=2", *fast)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["epoch_times_s"]) == 2
    assert torch.load(out / "model.pt", weights_only=True)
    assert "trainer.max_epochs" not in (out / "config.yaml").read_text()
    assert "max_epochs: 2" in (out / "config.yaml").read_text()
    assert "litlogger" not in result.stdout + result.stderr
    # Hydra left nothing in the working directory
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


@pytest.mark.parametrize(("group", "line"), [(1, "batch 3/15"), (4, "batch 4/15")])
def test_plain_progress_lines_when_not_a_tty(
    run_cli, fast, tiny_data: Path, tmp_path: Path, group: int, line: str
) -> None:
    # 4 lines an epoch, at the first iteration that reaches each quarter (a group of 4 ends at batch 4)
    args = [a for a in fast if not a.startswith("progress=")]
    result = run_cli(
        f"data.data_dir={tiny_data}",
        f"paths.output_dir={tmp_path / 'm'}",
        "trainer.max_epochs=1",
        f"data.batches_per_iteration={group}",
        *args,
    )
    assert result.returncode == 0, result.stderr
    assert f"epoch 1/1 {line}" in result.stdout
    assert "epoch 1/1 done in" in result.stdout and "val/acc" in result.stdout
    assert "test accuracy" in result.stdout


def test_multirun_gives_each_job_its_own_artifact(run_cli, fast, tiny_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    result = run_cli(
        "-m",
        f"data.data_dir={tiny_data}",
        f"paths.output_dir={out}",
        "trainer.max_epochs=1",
        "seed=1,2",
        *fast,
    )
    assert result.returncode == 0, result.stderr
    seeds = [json.loads((out / job / "metrics.json").read_text()) for job in ("0", "1")]
    assert all(len(m["epoch_times_s"]) == 1 for m in seeds)
    assert "seed: 2" in (out / "1" / "config.yaml").read_text()
    assert (out / "multirun.yaml").is_file()


def test_config_typo_is_hydras_one_message(run_cli) -> None:
    result = run_cli("trainer.max_epoch=3")
    assert result.returncode == 1
    assert "Could not override 'trainer.max_epoch'" in result.stderr
    _no_traceback(result.stderr)


def test_unknown_group_option(run_cli, tmp_path: Path) -> None:
    result = run_cli("model=resnet")
    assert result.returncode == 1
    assert (
        result.stderr
        == "trainer: error: model=resnet: config group 'model' has no option 'resnet' (options: cnn, mlp, vgg)\n"
    )
    # with a config source of the user's own, the options are Hydra's to find
    (tmp_path / "conf" / "model").mkdir(parents=True)
    (tmp_path / "conf" / "model" / "resnet.yaml").write_text("_target_: nowhere.Resnet\n")
    result = run_cli("model=resnet", f"hydra.searchpath=[file://{tmp_path / 'conf'}]", "--cfg", "job")
    assert result.returncode == 0, result.stderr
    assert "_target_: nowhere.Resnet" in result.stdout


def test_missing_dataset_directory(run_cli, tmp_path: Path) -> None:
    result = run_cli(f"data.data_dir={tmp_path / 'nope'}", f"paths.output_dir={tmp_path / 'out'}")
    assert result.returncode == 1
    assert result.stderr.strip() == f"trainer: error: dataset directory {tmp_path / 'nope'} does not exist"
    assert not (tmp_path / "out").exists()


def test_incomplete_dataset_directory(run_cli, make_data, tmp_path: Path) -> None:
    data = make_data()
    (data / "t10k-images-idx3-ubyte.gz").unlink()
    result = run_cli(f"data.data_dir={data}", f"paths.output_dir={tmp_path / 'out'}")
    assert result.returncode == 1
    assert "is missing t10k-images-idx3-ubyte.gz" in result.stderr
    _no_traceback(result.stderr)


def test_malformed_dataset_file(run_cli, make_data, tmp_path: Path) -> None:
    data = make_data(manifest=False)
    (data / "train-images-idx3-ubyte.gz").write_bytes(b"garbage")
    result = run_cli(f"data.data_dir={data}", f"paths.output_dir={tmp_path / 'out'}")
    assert result.returncode == 1
    assert "trainer: error: cannot read" in result.stderr and "train-images-idx3-ubyte.gz" in result.stderr
    _no_traceback(result.stderr)


def test_unwritable_output_directory(run_cli, tiny_data: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = run_cli(f"data.data_dir={tiny_data}", f"paths.output_dir={blocker / 'model'}")
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == f"trainer: error: output directory {blocker / 'model'} is not writable: Not a directory"
    )


def test_nan_loss_stops_with_a_message(run_cli, fast, tiny_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli(
        f"data.data_dir={tiny_data}",
        f"paths.output_dir={out}",
        "model.optimizer.lr=1e38",
        "trainer.max_epochs=3",
        *fast,
    )
    assert result.returncode == 1
    assert "trainer: error: training loss became nan" in result.stderr
    assert "lower model.optimizer.lr" in result.stderr
    _no_traceback(result.stderr)
    assert not (out / "model.pt").exists() and not (out / "metrics.json").exists()


def test_kfp_output_file_needs_a_uri(run_cli, tiny_data: Path, tmp_path: Path) -> None:
    result = run_cli(f"data.data_dir={tiny_data}", f"kfp.output_file={tmp_path / 'eo.json'}")
    assert result.returncode == 1
    assert "kfp.output_file (or kfp.executor_input) is set but neither kfp.metrics_uri" in result.stderr


def test_metrics_reach_the_kfp_backends_output_file(run_cli, fast, tiny_data: Path, tmp_path: Path) -> None:
    """The open-source KFP launcher leaves ``{{$.outputs.output_file}}`` as it is and substitutes ``{{$}}``
    with raw JSON (values may hold ' and ${): the ExecutorOutput goes to the executor input's outputFile."""
    kfp = tmp_path / "kfp"
    executor_input = {
        "inputs": {"parameterValues": {"experiment": "it's ${oc.env:HOME}"}},
        "outputs": {"outputFile": str(kfp / "output_metadata.json")},
    }
    result = run_cli(
        f"data.data_dir={tiny_data}",
        f"paths.output_dir={tmp_path / 'model'}",
        "trainer.max_epochs=1",
        *fast,
        "kfp.output_file={{$.outputs.output_file}}",
        f"kfp.executor_input='{json.dumps(executor_input)}'",
        "kfp.metrics_uri=minio://bucket/run/metrics",
        f"kfp.metrics_path={kfp}/metrics",
    )
    assert result.returncode == 0, result.stderr
    written = json.loads((kfp / "output_metadata.json").read_text())
    [metrics] = written["artifacts"]["metrics"]["artifacts"]
    assert metrics["uri"] == "minio://bucket/run/metrics" and "test_accuracy" in metrics["metadata"]
    assert not list(tmp_path.rglob("*{{*"))  # nothing written under the placeholder's literal name


@pytest.mark.parametrize(
    ("value", "message"),
    [("not json", "kfp.executor_input is not JSON"), ("[1, 2]", "is not a JSON object")],
)
def test_a_bad_executor_input_is_one_error(run_cli, tmp_path: Path, value: str, message: str) -> None:
    result = run_cli(f"kfp.executor_input='{value}'", f"paths.output_dir={tmp_path / 'm'}")
    assert result.returncode == 1
    assert result.stderr.startswith("trainer: error: ") and message in result.stderr
    _no_traceback(result.stderr)


def test_resume_after_the_process_is_killed(
    fast, trainer_command: str, tiny_data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "model"
    args = [f"data.data_dir={tiny_data}", f"paths.output_dir={out}", "trainer.max_epochs=8", *fast]
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    proc = subprocess.Popen(
        [trainer_command, *args], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    ckpt = out / "checkpoints" / "last.ckpt"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if ckpt.is_file() and torch.load(ckpt, weights_only=True)["epoch"] >= 1:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "training finished before it could be interrupted"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    interrupted = torch.load(ckpt, weights_only=True)
    done_before = interrupted["epoch"] + 1  # the checkpoint is written at the end of that epoch
    times_before = next(v for k, v in interrupted["callbacks"].items() if "RunHistory" in k)["epoch_times_s"]
    assert 2 <= done_before < 8 and len(times_before) == done_before
    assert not (out / "metrics.json").exists()

    result = subprocess.run(
        [trainer_command, *args], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert f"resuming from {ckpt}" in result.stdout + result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"] == 8
    assert metrics["epoch_times_s"][:done_before] == times_before
    assert len(metrics["val_accuracy_per_epoch"]) == 8
    assert metrics["test_accuracy"] > 0.9


@pytest.mark.slow
def test_fashion_mnist_short_run(run_cli, fashion_mnist: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    result = run_cli(
        f"data.data_dir={fashion_mnist}", f"paths.output_dir={out}", "trainer.max_epochs=1", timeout=600
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    # one epoch of the default CNN; chance is 10 %
    assert metrics["test_accuracy"] > 0.85
    assert metrics["class_names"] == [str(i) for i in range(10)]
    assert len(metrics["confusion_matrix"]) == 10


@pytest.mark.slow
def test_ddp_on_two_cpu_processes(run_cli, fast, tiny_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    result = run_cli(
        f"data.data_dir={tiny_data}",
        f"paths.output_dir={out}",
        "trainer=ddp",
        "trainer.accelerator=cpu",
        "trainer.devices=2",
        "trainer.max_epochs=2",
        *fast,
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["world_size"] == 2
    # each rank tested its own shard; the confusion matrix counts every test image exactly once
    assert sum(map(sum, metrics["confusion_matrix"])) == 150
    assert len(metrics["epoch_times_s"]) == 2


def test_invalid_trainer_setting_is_one_line(run_cli, tiny_data: Path, tmp_path: Path) -> None:
    result = run_cli(
        f"data.data_dir={tiny_data}", f"paths.output_dir={tmp_path / 'out'}", "trainer.accelerator=tpu"
    )
    assert result.returncode == 1
    assert result.stderr.startswith("trainer: error: cannot build lightning.pytorch.Trainer:")
    _no_traceback(result.stderr)


@pytest.mark.parametrize("value", ["null", "''", "'null'"])
def test_experiment_null_means_no_experiment(run_cli, value: str) -> None:
    result = run_cli("--cfg", "job", f"experiment={value}")
    assert result.returncode == 0, result.stderr
    assert "task_name: train" in result.stdout


def test_quoted_experiment_selects_it(run_cli) -> None:
    # the pipeline's component YAML quotes its string parameters
    result = run_cli("--cfg", "job", "experiment='fashion_mnist_mlp'", "trainer.max_epochs=2")
    assert result.returncode == 0, result.stderr
    assert "task_name: fashion_mnist_mlp" in result.stdout and "max_epochs: 2" in result.stdout


def test_kfp_paths_are_written_through_links_and_into_pipes_never_replaced(
    run_cli, fast, tiny_data: Path, tmp_path: Path
) -> None:
    import threading

    real = tmp_path / "real.json"
    real.write_text("{}")
    link = tmp_path / "metrics-link.json"
    link.symlink_to(real)
    fifo = tmp_path / "cm.fifo"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    result = run_cli(
        f"data.data_dir={tiny_data}",
        f"paths.output_dir={tmp_path / 'model'}",
        "trainer.max_epochs=1",
        *fast,
        f"kfp.metrics_path={link}",
        f"kfp.classification_metrics_path={fifo}",
    )
    assert result.returncode == 0, result.stderr
    reader.join(timeout=10)
    assert link.is_symlink() and "test_accuracy" in real.read_text()
    assert stat.S_ISFIFO(fifo.stat().st_mode) and "confusionMatrix" in received[0]


def test_a_kfp_path_that_is_a_directory_is_refused_before_training(
    run_cli, tiny_data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "model"
    result = run_cli(f"data.data_dir={tiny_data}", f"paths.output_dir={out}", f"kfp.metrics_path={tmp_path}")
    assert result.returncode == 1
    assert f"trainer: error: kfp.metrics_path {tmp_path}: not a regular file (a directory)" in result.stderr
    _no_traceback(result.stderr)
    assert not (out / "model.pt").exists()
