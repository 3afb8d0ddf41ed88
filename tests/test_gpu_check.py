"""benchmarks/gpu_check.py: the CPU rehearsal end to end, the GPU preset on CPU, and every bad input."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_check.py"
WHEEL_NAMES = ("hydra_core-1.3.8", "omegaconf-2.3.1", "antlr4_python3_runtime-4.9.3")
SMOKE_STEPS = {"epoch_time": "ok", "preset": "ok", "bounds": "ok"}


def load_script():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def gpu_check(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "OMP_NUM_THREADS": "1", **env},
    )


def assert_one_line_failure(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gpu_check: "), lines
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def fake_inputs(inputs: Path, *, wheels=WHEEL_NAMES, data=True) -> Path:
    """Wheels that unpack (each a module of no consequence) and empty dataset files."""
    (inputs / "wheels").mkdir(parents=True)
    for name in wheels:
        with zipfile.ZipFile(inputs / "wheels" / f"{name}-py3-none-any.whl", "w") as archive:
            archive.writestr(f"gpu_check_fake_{name.split('-')[0]}.py", "")
    (inputs / "fashion-mnist").mkdir()
    if data:
        for name in load_script().DATA_FILES:
            (inputs / "fashion-mnist" / name).write_bytes(b"")
    return inputs


def check_smoke_report(out: Path) -> dict:
    report = json.loads((out / "gpu_check_cpu-smoke.json").read_text())
    assert report["smoke"] is True and report["card"] == "cpu smoke"
    assert {name: step["status"] for name, step in report["steps"].items()} == SMOKE_STEPS, report["steps"]
    figures = report["figures"]
    assert figures["default_config"]["config"].startswith("experiment=fashion_mnist_cnn")
    assert 0.0 <= figures["default_config"]["test_accuracy"] <= 1.0
    assert figures["default_config"]["epochs"] == 6
    assert set(figures["gpu_preset"]) == {"5", "20"}
    for budget, run in figures["gpu_preset"].items():
        assert run["budget_s"] == float(budget) and run["epochs"] == 1  # --max-epochs 1 in the smoke
        assert run["within_budget"] == (run["train_time_s"] <= float(budget))
        assert run["goal_met"] == (run["test_accuracy"] >= run["goal_accuracy"])
    mlp = figures["mlp_batch128"]
    # the report rounds the medians it shows, not the ratio it computed from the unrounded ones
    assert mlp["speedup"] == pytest.approx(mlp["baseline_median_s"] / mlp["ours_median_s"], rel=0.05)
    assert mlp["goal_speedup"] == 50
    eager = figures["mlp_batch128_bounds"]["eager_loop"]
    assert eager["speedup"] == pytest.approx(mlp["baseline_median_s"] / eager["median_s"], rel=0.05, abs=0.1)
    bounds = report["steps"]["bounds"]["figures"]
    assert bounds["steps_per_epoch"] == 3 and len(bounds["eager_loop"]["epoch_times_s"]) == 4
    assert bounds["cuda_graph"] == {"skipped": "needs a CUDA GPU"}
    markdown = (out / "gpu_check_cpu-smoke.md").read_text()
    assert "| `experiment=fashion_mnist_gpu`, 20 s budget |" in markdown
    assert "| `model=mlp data.batch_size=128` s/epoch |" in markdown
    logs = sorted(p.name for p in (out / "gpu_check_logs").iterdir())
    assert logs == ["bounds.log", "epoch_time.log", "preset.log", "probe.log"]
    return report


def test_smoke_run_measures_every_figure(tmp_path):
    out = tmp_path / "out"
    result = gpu_check("run", "--smoke", "--inputs", str(tmp_path / "none"), "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    check_smoke_report(out)
    assert "| figure | measured | goal |" in result.stdout  # the summary ends the output


@pytest.mark.slow
def test_prepare_then_rehearse_with_the_wheels(tmp_path):
    """What the GPU machine does, on CPU: hydra, omegaconf and antlr4 come from the prepared wheels."""
    inputs = tmp_path / "inputs"
    prepared = gpu_check("prepare", "--inputs", str(inputs))
    assert prepared.returncode == 0, prepared.stdout + prepared.stderr
    assert sorted(p.name.split("-")[0] for p in (inputs / "wheels").iterdir()) == [
        "antlr4_python3_runtime",
        "hydra_core",
        "omegaconf",
    ]
    assert sorted(p.name for p in (inputs / "fashion-mnist").iterdir()) == sorted(load_script().DATA_FILES)
    out = tmp_path / "out"
    result = gpu_check("run", "--smoke", "--inputs", str(inputs), "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    report = check_smoke_report(out)
    for name in ("hydra", "omegaconf", "antlr4"):
        assert (
            "/gpu_check-" in report["machine"]["paths"][name] and "/site/" in report["machine"]["paths"][name]
        )


def test_gpu_preset_composes_and_trains_one_step_on_cpu(tmp_path):
    from trainer import compose_config, train

    preset = compose_config(["experiment=fashion_mnist_gpu"])
    assert preset.model.net._target_ == "trainer.models.vgg.VggNet"
    assert preset.model.channels_last and preset.trainer.precision == "auto"
    assert preset.data.augment.enabled and preset.data.batch_size == 512
    assert preset.model.scheduler._target_ == "torch.optim.lr_scheduler.OneCycleLR"
    data = load_script().write_synthetic(tmp_path / "data", train=300, test=50)
    metrics = train(
        compose_config(
            [
                "experiment=fashion_mnist_gpu",
                f"data.data_dir={data}",
                f"paths.output_dir={tmp_path / 'model'}",
                "trainer.accelerator=cpu",
                "trainer.max_epochs=1",
                "+trainer.limit_train_batches=1",
                "+trainer.limit_val_batches=1",
                "+trainer.limit_test_batches=1",
                "data.batch_size=16",
                "data.eval_batch_size=32",
                "data.val_size=50",
                "logger=none",
                "progress=none",
            ]
        )
    )
    assert metrics["epochs"] == 1 and 0.0 <= metrics["test_accuracy"] <= 1.0
    assert (tmp_path / "model" / "model.pt").is_file()


def test_step_past_its_timeout_is_killed_and_keeps_its_figures(tmp_path):
    script = load_script()
    figures = tmp_path / "step.json"
    hang = f"import json, time; open({str(figures)!r}, 'w').write(json.dumps({{'half': 1}})); print('working'); time.sleep(300)"
    step = script.Step("hang", [sys.executable, "-c", hang], figures, timeout_s=3)
    status = step.run(dict(os.environ), tmp_path, deadline=time.monotonic() + 60)
    assert status["status"] == "timeout" and status["wall_s"] < 60
    assert status["figures"] == {"half": 1} and status["log_tail"] == ["working"]
    late = script.Step("late", [sys.executable, "-c", "pass"], tmp_path / "none.json", timeout_s=100)
    assert late.run(dict(os.environ), tmp_path, deadline=time.monotonic() + 5)["status"].startswith("skipped")


def test_no_inputs_fails_before_anything_runs(tmp_path):
    out = tmp_path / "out"
    result = gpu_check("run", "--inputs", str(tmp_path / "none"), "--out", str(out))
    assert_one_line_failure(result, "lacks train-images-idx3-ubyte.gz", "gpu_check.py prepare")
    assert not out.exists()  # failed before the probe: no torch import, nothing written


def test_missing_wheel_is_named(tmp_path):
    inputs = fake_inputs(tmp_path / "inputs", wheels=WHEEL_NAMES[:2])
    result = gpu_check("run", "--inputs", str(inputs), "--out", str(tmp_path / "out"))
    assert_one_line_failure(result, "lacks a wheel of antlr4-python3-runtime (no wheel)", "prepare")
    assert not (tmp_path / "out").exists()


def test_missing_dataset_file_is_named(tmp_path):
    inputs = fake_inputs(tmp_path / "inputs")
    (inputs / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    result = gpu_check("run", "--inputs", str(inputs), "--out", str(tmp_path / "out"))
    assert_one_line_failure(result, "lacks t10k-labels-idx1-ubyte.gz;", "prepare")


def test_broken_wheel_is_named(tmp_path):
    inputs = fake_inputs(tmp_path / "inputs")
    (inputs / "wheels" / f"{WHEEL_NAMES[0]}-py3-none-any.whl").write_text("<html>proxy error</html>")
    result = gpu_check("run", "--inputs", str(inputs), "--out", str(tmp_path / "out"))
    assert_one_line_failure(result, "hydra_core-1.3.8-py3-none-any.whl is not a wheel", "prepare")


def test_no_gpu_is_one_line(tmp_path):
    inputs = fake_inputs(tmp_path / "inputs")
    result = gpu_check(
        "run", "--inputs", str(inputs), "--out", str(tmp_path / "out"), CUDA_VISIBLE_DEVICES=""
    )
    assert_one_line_failure(result, "no GPU visible to torch", "--smoke")


def test_prepare_without_dataset_names_the_files(tmp_path):
    inputs = tmp_path / "inputs"
    result = gpu_check("prepare", "--data-dir", str(tmp_path / "none"), "--inputs", str(inputs))
    assert_one_line_failure(result, "lacks train-images-idx3-ubyte.gz", "--data-dir")
    assert not inputs.exists()
