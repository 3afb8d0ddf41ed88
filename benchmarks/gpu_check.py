"""One-command GPU check of the trainer: every GPU figure in one JSON file, from a machine with no network.

    python benchmarks/gpu_check.py prepare             # where PyPI is reachable: wheels + dataset copy
    python3 benchmarks/gpu_check.py run --out DIR      # on the GPU machine, in <= 8 minutes
    python benchmarks/gpu_check.py run --smoke --out DIR   # on CPU, synthetic data: the same steps in miniature

``prepare`` builds wheels of hydra-core, omegaconf and antlr4-python3-runtime (the versions installed here)
with ``pip wheel`` and copies the four Fashion-MNIST files, both into the git-ignored ``benchmarks/.gpu_check/``.
``run`` needs only python3 with torch, torchvision, lightning and torchmetrics: it unpacks the wheels into a
temporary directory and puts them and ``packages/trainer/src`` on ``PYTHONPATH``. Each step is a subprocess
with its own timeout under one overall deadline; a failed step is recorded and the rest still run.

Steps:
  epoch_time  benchmarks/trainer_epoch_time.py: the default config's time to accuracy, and
              ``model=mlp data.batch_size=128`` seconds per epoch against lightning-hydra-template's data path
  preset      ``experiment=fashion_mnist_gpu``: test accuracy after 5 s and after 20 s of training, each run's
              epochs sized from a 2-epoch calibration run so that its whole schedule fits the budget
  bounds      what bounds the MLP at batch 128: the same step in a bare PyTorch loop, the step as one CUDA
              graph, and the trainer with ``model.compile=true``

Writes ``gpu_check_<card>.json`` and ``.md`` to ``--out`` and each step's log to ``--out``/gpu_check_logs/.
Exit status: 0 when every step succeeded, 1 when one failed or timed out, 2 for missing inputs or no GPU.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parent
ROOT = BENCHMARKS.parent
TRAINER_SRC = ROOT / "packages" / "trainer" / "src"
INPUTS = BENCHMARKS / ".gpu_check"
SYSTEM_DATA = Path("/usr/share/datasets/fashion-mnist")
DATA_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
# distribution -> what pip builds when it is not installed here (the trainer's own bounds)
WHEELS = {
    "hydra-core": "hydra-core>=1.3.2,<1.4",
    "omegaconf": "omegaconf>=2.3,<2.4",
    "antlr4-python3-runtime": "antlr4-python3-runtime==4.9.3",
}
TOTAL_S = 470  # the 8 minutes, less the interpreter's start and the result writing
BUDGETS_S = (5.0, 20.0)
PRESET_GOALS = {5.0: 0.93, 20.0: 0.94}
SPEEDUP_GOAL = 50
PREPARE_HINT = (
    "run `python benchmarks/gpu_check.py prepare` on a machine with PyPI access (benchmarks/README.md)"
)


class CheckError(Exception):
    """Bad input: the message says what is missing and how to prepare it."""


# ---------------------------------------------------------------------------------------------------- prepare


def prepare(inputs: Path, data_dir: Path) -> None:
    """Build the three wheels and copy the dataset into ``inputs``."""
    missing = [name for name in DATA_FILES if not (data_dir / name).is_file()]
    if missing:
        raise CheckError(
            f"{data_dir} lacks {', '.join(missing)}; pass --data-dir with the four Fashion-MNIST files "
            "(apt-get install dataset-fashion-mnist, or a data-prepare artifact)"
        )
    wheels = inputs / "wheels"
    shutil.rmtree(wheels, ignore_errors=True)  # one version of each, or the run's unpacking is ambiguous
    wheels.mkdir(parents=True)
    requirements = []
    for name, fallback in WHEELS.items():
        try:
            requirements.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            requirements.append(fallback)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(wheels), *requirements]
    print("$", " ".join(command), flush=True)
    if subprocess.run(command).returncode != 0:
        raise CheckError(f"pip wheel {' '.join(requirements)} failed (see above); PyPI must be reachable")
    for wheel in wheels.glob("*.whl"):
        if not wheel.name.endswith("-none-any.whl"):
            raise CheckError(f"{wheel.name} is not a pure-Python wheel; the GPU machine may not load it")
    data = inputs / "fashion-mnist"
    data.mkdir(parents=True, exist_ok=True)
    for name in DATA_FILES:
        shutil.copyfile(data_dir / name, data / name)
    size = sum(p.stat().st_size for p in inputs.rglob("*") if p.is_file())
    print(f"prepared {inputs} ({size / 1e6:.1f} MB): {', '.join(sorted(p.name for p in wheels.iterdir()))}")


# ------------------------------------------------------------------------------------------------ preflight


def find_wheels(wheels: Path) -> list[Path]:
    """One wheel per required distribution, or :class:`CheckError` naming the missing ones."""
    found, missing = [], []
    for name in WHEELS:
        stem = name.replace("-", "_")
        matches = sorted(wheels.glob(f"{stem}-*.whl")) if wheels.is_dir() else []
        if len(matches) == 1:
            found.append(matches[0])
        else:
            missing.append(f"{name} ({'several wheels' if matches else 'no wheel'})")
    if missing:
        raise CheckError(f"{wheels} lacks a wheel of {', '.join(missing)}; {PREPARE_HINT}")
    return found


def check_data(data_dir: Path) -> None:
    missing = [name for name in DATA_FILES if not (data_dir / name).is_file()]
    if missing:
        raise CheckError(f"{data_dir} lacks {', '.join(missing)}; {PREPARE_HINT}")


def unpack_wheels(wheels: Sequence[Path], site: Path) -> None:
    """Pure-Python wheels are zip files laid out as site-packages: unpacking them installs them."""
    site.mkdir(parents=True, exist_ok=True)
    for wheel in wheels:
        try:
            with zipfile.ZipFile(wheel) as archive:
                archive.extractall(site)
        except zipfile.BadZipFile:
            raise CheckError(f"{wheel} is not a wheel (a broken download?); {PREPARE_HINT}") from None


PROBE = """
import importlib, json, platform, sys
info = {"python": platform.python_version(), "executable": sys.executable, "missing": []}
for name in ("torch", "torchvision", "lightning", "torchmetrics", "hydra", "omegaconf", "antlr4", "numpy"):
    try:
        module = importlib.import_module(name)
        info[name] = getattr(module, "__version__", "?")
        info.setdefault("paths", {})[name] = module.__file__
    except Exception as e:
        info["missing"].append(f"{name} ({type(e).__name__}: {e})")
if "torch" in info:
    import torch
    info["cuda_available"] = torch.cuda.is_available()
    info["cuda"] = torch.version.cuda
    if info["cuda_available"]:
        p = torch.cuda.get_device_properties(0)
        info.update(card=p.name, capability=f"{p.major}.{p.minor}", memory_gib=round(p.total_memory / 2**30, 1),
                    multiprocessors=p.multi_processor_count, cudnn=torch.backends.cudnn.version(),
                    bf16=torch.cuda.is_bf16_supported(), device_count=torch.cuda.device_count())
print(json.dumps(info))
"""


def probe(env: dict[str, str], log: Path, *, smoke: bool) -> dict[str, Any]:
    """Versions, the card, and one-line failures for a missing package or an invisible GPU."""
    try:
        with open(log, "w") as out:
            result = subprocess.run(
                [sys.executable, "-c", PROBE],
                env=env,
                stdout=subprocess.PIPE,
                stderr=out,
                text=True,
                timeout=120,
            )
    except subprocess.TimeoutExpired:
        raise CheckError(f"{sys.executable} did not import torch within 120 s (see {log})") from None
    try:
        info = json.loads(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise CheckError(f"{sys.executable} could not report its packages (see {log})") from None
    if info["missing"]:
        from_wheels = {"hydra", "omegaconf", "antlr4"}
        if any(m.split()[0] in from_wheels for m in info["missing"]) and not smoke:
            raise CheckError(
                f"the prepared wheels do not import: {'; '.join(info['missing'])}; {PREPARE_HINT}"
            )
        raise CheckError(
            f"{sys.executable} lacks {'; '.join(info['missing'])}: the check needs torch, torchvision, "
            "lightning and torchmetrics"
        )
    if not smoke and not info.get("cuda_available"):
        raise CheckError(
            "no GPU visible to torch (torch.cuda.is_available() is False, CUDA_VISIBLE_DEVICES="
            f"{os.environ.get('CUDA_VISIBLE_DEVICES', 'unset')}): run this on the GPU machine, or use "
            "--smoke for the CPU rehearsal"
        )
    info["driver"] = _driver_version()
    return info


def _driver_version() -> str | None:
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=15,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else None


# ------------------------------------------------------------------------------------------- synthetic data


def write_synthetic(directory: Path, train: int, test: int, seed: int = 0) -> Path:
    """Fashion-MNIST-shaped IDX files: one fixed random template per class, so they compress and are learnable."""
    import numpy as np

    rng = np.random.default_rng(seed)
    templates = rng.integers(0, 256, size=(10, 28, 28), dtype=np.uint8)
    directory.mkdir(parents=True, exist_ok=True)
    for prefix, count in (("train", train), ("t10k", test)):
        labels = rng.integers(0, 10, size=count, dtype=np.uint8)
        for kind, array, magic in (("images-idx3", templates[labels], 2051), ("labels-idx1", labels, 2049)):
            header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
            path = directory / f"{prefix}-{kind}-ubyte.gz"
            path.write_bytes(gzip.compress(header + array.tobytes(), compresslevel=1, mtime=0))
    return directory


# ---------------------------------------------------------------------------------------------------- steps


def _median_after_first(times: Sequence[float]) -> float:
    """Median epoch time without the first epoch (warm-up: cuDNN, allocator, compilation)."""
    return statistics.median(times[1:] if len(times) > 1 else times)


def _train(overrides: Sequence[str]) -> dict[str, Any]:
    from trainer import compose_config, train

    metrics = train(compose_config(list(overrides)))
    return {
        "epochs": metrics["epochs"],
        "epoch_times_s": metrics["epoch_times_s"],
        "train_time_s": metrics["train_time_s"],
        "test_accuracy": round(metrics["test_accuracy"], 4),
        "best_val_accuracy": metrics.get("best_val_accuracy"),
        "precision": metrics.get("precision"),
    }


def _write(path: Path, result: dict[str, Any]) -> None:
    """Called after every figure, so a step stopped by its timeout keeps what it measured."""
    path.write_text(json.dumps(result, indent=2) + "\n")


def preset_step(
    data_dir: Path,
    work: Path,
    out: Path,
    budgets: Sequence[float],
    extra: Sequence[str] = (),
    max_epochs: int | None = None,
) -> None:
    """Test accuracy of ``experiment=fashion_mnist_gpu`` with its epochs sized to each training-time budget."""

    def run(epochs: int, tag: str) -> dict[str, Any]:
        return _train(
            [
                "experiment=fashion_mnist_gpu",
                f"data.data_dir={data_dir}",
                f"paths.output_dir={work / tag}",
                f"trainer.max_epochs={epochs}",
                "logger=none",
                "progress=none",
                *extra,
            ]
        )

    result: dict[str, Any] = {"config": "experiment=fashion_mnist_gpu", "overrides": list(extra)}
    calibration = run(min(2, max_epochs or 2), "calibration")
    first = calibration["epoch_times_s"][0]
    steady = max(_median_after_first(calibration["epoch_times_s"]), 1e-3)
    warm_up = max(0.0, first - steady)
    result["calibration"] = {**calibration, "steady_epoch_s": steady, "warm_up_s": round(warm_up, 3)}
    _write(out, result)
    result["budgets"] = {}
    for budget in budgets:
        epochs = max(1, int((budget - warm_up) / steady))
        epochs = min(epochs, max_epochs or epochs)
        attempt = run(epochs, f"budget_{budget:g}s")
        if attempt["train_time_s"] > budget and epochs > 1:  # noise or a slow first epoch: one shorter run
            epochs = max(1, min(epochs - 1, int(epochs * budget / attempt["train_time_s"])))
            attempt = {**run(epochs, f"budget_{budget:g}s_retry"), "first_attempt": attempt}
        goal = PRESET_GOALS.get(budget)
        result["budgets"][f"{budget:g}"] = {
            **attempt,
            "budget_s": budget,
            "within_budget": attempt["train_time_s"] <= budget,
            "goal_accuracy": goal,
            "goal_met": None if goal is None else attempt["test_accuracy"] >= goal,
        }
        _write(out, result)


def bounds_step(data_dir: Path, work: Path, out: Path, steps: int | None) -> None:
    """Seconds per epoch of the MLP's batch-128 step without Lightning (eagerly, then as one CUDA graph per
    step), and of the trainer with ``model.compile=true``."""
    import torch
    import torch.nn.functional as F

    from trainer import load_idx_dataset
    from trainer.models import SimpleDenseNet

    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    dataset = load_idx_dataset(data_dir)
    images = torch.tensor(dataset.train_images[:55_000], device=device).float().div_(255)
    images = images.sub_(images.mean()).div_(images.std()).unsqueeze(1)
    labels = torch.tensor(dataset.train_labels[:55_000], device=device).long()
    batch = 128
    per_epoch = steps or len(labels) // batch
    net = SimpleDenseNet().to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, fused=cuda, capturable=cuda)

    def step(index: torch.Tensor) -> None:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda, cache_enabled=False):
            loss = F.cross_entropy(net(images.index_select(0, index)), labels.index_select(0, index))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=False)  # gradients stay put: a captured graph reads them in place

    def epochs(run_step: Callable[[torch.Tensor], None], count: int = 4) -> list[float]:
        times = []
        for _ in range(count):
            order = torch.randperm(len(labels), device=device)
            if cuda:
                torch.cuda.synchronize()
            started = time.perf_counter()
            for i in range(per_epoch):
                run_step(order[i * batch : (i + 1) * batch])
            if cuda:
                torch.cuda.synchronize()
            times.append(round(time.perf_counter() - started, 4))
        return times

    result: dict[str, Any] = {"model": "SimpleDenseNet, Adam 1e-3, batch 128", "steps_per_epoch": per_epoch}
    eager = epochs(step)
    result["eager_loop"] = {"epoch_times_s": eager, "median_s": _median_after_first(eager)}
    _write(out, result)
    if not cuda:
        result["cuda_graph"] = result["compiled_trainer"] = {"skipped": "needs a CUDA GPU"}
        _write(out, result)
        return
    static_index = torch.arange(batch, device=device)
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # warm-up on a side stream, as graph capture requires
        for _ in range(3):
            step(static_index)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step(static_index)

    def replay(index: torch.Tensor) -> None:
        static_index.copy_(index)
        graph.replay()

    captured = epochs(replay)
    result["cuda_graph"] = {"epoch_times_s": captured, "median_s": _median_after_first(captured)}
    _write(out, result)
    compiled = _train(
        [
            "model=mlp",
            "data.batch_size=128",
            "model.compile=true",
            "trainer.max_epochs=3",
            f"data.data_dir={data_dir}",
            f"paths.output_dir={work / 'mlp_compiled'}",
        ]
    )
    result["compiled_trainer"] = {**compiled, "median_s": _median_after_first(compiled["epoch_times_s"])}
    _write(out, result)


# --------------------------------------------------------------------------------------------------- driver


class Step:
    """One subprocess with its log, timeout and the JSON file it leaves."""

    def __init__(self, name: str, command: list[str], result: Path, timeout_s: float) -> None:
        self.name, self.command, self.result, self.timeout_s = name, command, result, timeout_s

    def run(self, env: dict[str, str], logs: Path, deadline: float) -> dict[str, Any]:
        remaining = deadline - time.monotonic()
        timeout = min(self.timeout_s, remaining)
        log = logs / f"{self.name}.log"
        status: dict[str, Any] = {"log": f"{logs.name}/{log.name}", "timeout_s": round(timeout, 1)}
        if remaining < 10:
            return {**status, "status": "skipped: the overall deadline has passed"}
        print(f"[{self.name}] up to {timeout:.0f} s: {' '.join(self.command[1:])}", flush=True)
        started = time.monotonic()
        with open(log, "w") as out:
            process = subprocess.Popen(
                self.command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
            try:
                code = process.wait(timeout)
            except subprocess.TimeoutExpired:
                code = None
            finally:  # on a timeout or Ctrl-C, the step and everything it started
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
        status["wall_s"] = round(time.monotonic() - started, 1)
        if code == 0:
            status["status"] = "ok"
        else:
            status["status"] = "timeout" if code is None else f"failed (exit {code})"
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            status["log_tail"] = tail
            print(f"[{self.name}] {status['status']}: {' | '.join(tail)}", flush=True)
        if self.result.is_file():  # partial figures survive a timeout
            status["figures"] = json.loads(self.result.read_text())
        return status


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    deadline = started + args.total_s
    if args.out is None:
        args.out = Path(tempfile.gettempdir()) / "gpu_check_smoke" if args.smoke else BENCHMARKS / "results"
    work = Path(tempfile.mkdtemp(prefix="gpu_check-"))
    try:
        env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
        paths = [str(TRAINER_SRC)]
        wheels_dir = args.inputs / "wheels"
        if args.smoke:
            # the full count: the template's split in trainer_epoch_time.py takes 55,000/5,000/10,000 images
            data_dir = write_synthetic(work / "data", train=60_000, test=10_000)
            small_data = write_synthetic(work / "small", train=1_000, test=200)
            # CPU only, one thread (two spin against each other on a loaded machine); Lightning reads Trainer
            # defaults from PL_TRAINER_* (explicit arguments win)
            env.update(
                CUDA_VISIBLE_DEVICES="",
                OMP_NUM_THREADS="1",
                PL_TRAINER_LIMIT_TRAIN_BATCHES="2",
                PL_TRAINER_LIMIT_VAL_BATCHES="1",
                PL_TRAINER_LIMIT_TEST_BATCHES="1",
            )
            wheels = find_wheels(wheels_dir) if wheels_dir.is_dir() else []  # a rehearsal of the real run
        else:
            data_dir = small_data = args.inputs / "fashion-mnist"
            check_data(data_dir)
            wheels = find_wheels(wheels_dir)
        if wheels:
            unpack_wheels(wheels, work / "site")
            paths.insert(0, str(work / "site"))
        env["PYTHONPATH"] = os.pathsep.join([*paths, *filter(None, [os.environ.get("PYTHONPATH")])])
        args.out.mkdir(parents=True, exist_ok=True)
        logs = args.out / "gpu_check_logs"
        logs.mkdir(exist_ok=True)
        machine = probe(env, logs / "probe.log", smoke=args.smoke)
        card = "cpu smoke" if args.smoke else machine["card"]
        print(
            f"{card}: torch {machine['torch']} (CUDA {machine['cuda']}), lightning {machine['lightning']}",
            flush=True,
        )
        steps = _steps(args, data_dir, small_data, work)
        results = {step.name: step.run(env, logs, deadline) for step in steps}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report = {
        "card": card,
        "smoke": args.smoke,
        "machine": machine,
        "figures": summarise(results),
        "steps": results,
        "wall_s": round(time.monotonic() - started, 1),
    }
    name = f"gpu_check_{slug(card)}"
    (args.out / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    markdown = render(report)
    (args.out / f"{name}.md").write_text(markdown)
    print(markdown)
    print(f"wrote {args.out / name}.json and .md, logs in {logs}")
    return 0 if all(r["status"] == "ok" for r in results.values()) else 1


def _steps(args: argparse.Namespace, data_dir: Path, small_data: Path, work: Path) -> list[Step]:
    me = [sys.executable, str(Path(__file__).resolve()), "step"]
    common = ["--data-dir", str(small_data), "--work", str(work)]
    epoch_time = [
        sys.executable,
        str(BENCHMARKS / "trainer_epoch_time.py"),
        "--data-dir",
        str(data_dir),
        "--out-dir",
        str(work / "epoch_time"),
        *(["--reps", "1", "--ours-epochs", "2"] if args.smoke else ["--reps", "3", "--ours-epochs", "3"]),
    ]
    # the smoke preset: a narrow network and small batches, one epoch per budget, so CPU seconds suffice
    smoke_preset = ["--max-epochs", "1"] + [
        f"--override={o}"
        for o in (
            "data.batch_size=32",
            "data.eval_batch_size=64",
            "data.val_size=100",
            "model.net.channels=[8,16,32]",
        )
    ]
    return [
        Step("epoch_time", epoch_time, work / "epoch_time" / "trainer_epoch_time.json", 210),
        Step(
            "preset",
            [
                *me,
                "preset",
                *common,
                "--json",
                str(work / "preset.json"),
                *(smoke_preset if args.smoke else []),
            ],
            work / "preset.json",
            150,
        ),
        Step(
            "bounds",
            [
                *me,
                "bounds",
                *common,
                "--json",
                str(work / "bounds.json"),
                *(["--steps", "3"] if args.smoke else []),
            ],
            work / "bounds.json",
            120,
        ),
    ]


def summarise(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The headline figures, with ratios against the template's epoch time measured in the same run."""
    figures: dict[str, Any] = {}
    epoch_time = results.get("epoch_time", {}).get("figures") or {}
    baseline = (epoch_time.get("epoch_time") or {}).get("baseline_median_s")
    if epoch_time.get("accuracy"):
        figures["default_config"] = epoch_time["accuracy"]
    if epoch_time.get("epoch_time"):
        figures["mlp_batch128"] = {**epoch_time["epoch_time"], "goal_speedup": SPEEDUP_GOAL}
    preset = results.get("preset", {}).get("figures") or {}
    if preset.get("budgets"):
        figures["gpu_preset"] = preset["budgets"]
    bounds = results.get("bounds", {}).get("figures") or {}
    for key in ("eager_loop", "cuda_graph", "compiled_trainer"):
        median = (bounds.get(key) or {}).get("median_s")
        if median:
            figures.setdefault("mlp_batch128_bounds", {})[key] = {
                "median_s": median,
                "speedup": round(baseline / median, 1) if baseline else None,
            }
    return figures


def _epochs(count: int) -> str:
    return f"{count} epoch" if count == 1 else f"{count} epochs"


def render(report: dict[str, Any]) -> str:
    m, f = report["machine"], report["figures"]
    lines = [
        f"# GPU check: {report['card']}",
        "",
        f"torch {m['torch']} (CUDA {m['cuda']}, cuDNN {m.get('cudnn')}), lightning {m['lightning']}, "
        f"torchmetrics {m['torchmetrics']}, Python {m['python']}, driver {m.get('driver')}; "
        f"{report['wall_s']:.0f} s in all.",
        "",
        "| figure | measured | goal |",
        "|---|---|---|",
    ]
    if acc := f.get("default_config"):
        lines.append(
            f"| default config (`{acc['config']}`) | {acc['test_accuracy'] * 100:.2f} % after "
            f"{acc['train_time_s']:.1f} s ({_epochs(acc['epochs'])}) | |"
        )
    for budget, run in (f.get("gpu_preset") or {}).items():
        goal = f"≥ {run['goal_accuracy'] * 100:.0f} % in {budget} s" if run.get("goal_accuracy") else ""
        mark = "" if run.get("goal_met") is None else (" (met)" if run["goal_met"] else " (missed)")
        lines.append(
            f"| `experiment=fashion_mnist_gpu`, {budget} s budget | {run['test_accuracy'] * 100:.2f} % after "
            f"{run['train_time_s']:.1f} s ({_epochs(run['epochs'])}) | {goal}{mark} |"
        )
    if ep := f.get("mlp_batch128"):
        spread = ", ".join(f"{r:.1f}x" for r in ep.get("speedup_per_repetition", []))
        lines.append(
            f"| `model=mlp data.batch_size=128` s/epoch | {ep['ours_median_s']:.3f} s vs {ep['baseline_median_s']:.3f} s "
            f"(template): **{ep['speedup']:.1f}x** (repetitions: {spread}) | ≥ {SPEEDUP_GOAL}x |"
        )
    names = {
        "eager_loop": "same step, bare PyTorch loop",
        "cuda_graph": "same step, one CUDA graph per step",
        "compiled_trainer": "trainer with `model.compile=true`",
    }
    for key, bound in (f.get("mlp_batch128_bounds") or {}).items():
        speedup = f": {bound['speedup']:.1f}x" if bound.get("speedup") else ""
        lines.append(f"| {names[key]} | {bound['median_s']:.3f} s/epoch{speedup} | bound |")
    failed = [f"{name}: {r['status']}" for name, r in report["steps"].items() if r["status"] != "ok"]
    if failed:
        lines += ["", "Steps that did not finish: " + "; ".join(failed) + "."]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------------ CLI


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    prep = commands.add_parser("prepare", help="build the wheels and copy the dataset (needs PyPI)")
    prep.add_argument("--data-dir", type=Path, default=SYSTEM_DATA)
    prep.add_argument("--inputs", type=Path, default=INPUTS)
    go = commands.add_parser("run", help="measure on the GPU (or on CPU with --smoke)")
    go.add_argument("--inputs", type=Path, default=INPUTS)
    go.add_argument(
        "--out",
        type=Path,
        default=None,
        help="default: benchmarks/results (with --smoke: a temporary directory)",
    )
    go.add_argument("--smoke", action="store_true", help="CPU, synthetic data, a few batches per step")
    go.add_argument("--total-s", type=float, default=TOTAL_S, help="overall deadline for all steps")
    step = commands.add_parser("step", help="one step, run by `run` in its own process")
    step.add_argument("name", choices=["preset", "bounds"])
    step.add_argument("--data-dir", type=Path, required=True)
    step.add_argument("--work", type=Path, required=True)
    step.add_argument("--json", type=Path, required=True)
    step.add_argument("--max-epochs", type=int, default=None, help="cap on each preset run's epochs")
    step.add_argument(
        "--steps", type=int, default=None, help="bounds: steps per epoch (default: a full epoch)"
    )
    step.add_argument("--override", action="append", default=[], help="extra trainer override (preset)")
    args = parser.parse_args(argv)
    try:
        if args.command == "prepare":
            prepare(args.inputs, args.data_dir)
            return 0
        if args.command == "run":
            return run(args)
    except CheckError as e:
        print(f"gpu_check: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gpu_check: interrupted", file=sys.stderr)
        return 130
    if args.name == "preset":
        preset_step(args.data_dir, args.work, args.json, BUDGETS_S, args.override, args.max_epochs)
    else:
        bounds_step(args.data_dir, args.work, args.json, args.steps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
