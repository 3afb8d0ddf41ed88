"""Benchmark a local sweep's own overhead: everything except the trials' training processes.

Usage: python benchmarks/sweep_overhead.py [--reps N] [--trials N] [OVERRIDES...]

Each repetition runs, on real Fashion-MNIST, `pipeline-sdk run -m params.learning_rate=...` with --trials
learning rates (one trial each, --parallel 1) and, as the baseline, the same pipeline as a single run.
Overhead = wall time minus the training processes' durations (the ``train-trial-N`` / ``train`` tasks in
run.json): CLI start, config and sweep expansion, lint and compile, data-prepare, the runner's
bookkeeping and, for the sweep, the select-best step. Reported: the median of each, the spread, and the
sweep's extra over the single run. Goal: sweep overhead <= 10 s.
Results: benchmarks/results/sweep_overhead.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SDK = str(Path(sys.executable).parent / "pipeline-sdk")
#: a quick trainer setting: the overhead, not the training, is measured
DEFAULT_OVERRIDES = ["params.epochs=1", "params.experiment=fashion_mnist_mlp"]


def one_run(root: str, name: str, args: list[str]) -> dict[str, float]:
    """Wall time, training-process time and overhead of ``pipeline-sdk run ARGS``."""
    start = time.perf_counter()
    done = subprocess.run(
        [SDK, "run", f"local.root={root}", "--run-name", name, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"pipeline-sdk run {' '.join(args)} failed:\n{done.stderr}")
    record = json.loads((Path(root) / name / "run.json").read_text())
    training = sum(
        task["duration_s"]
        for task_name, task in record["tasks"].items()
        if task_name.split("-trial-")[0] == "train"
    )
    steps = {k: t["duration_s"] for k, t in record["tasks"].items() if not k.startswith("train")}
    return {
        "wall_s": round(wall, 2),
        "training_s": round(training, 2),
        "overhead_s": round(wall - training, 2),
        "other_steps_s": steps,
    }


def spread(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 2),
        "min": round(min(values), 2),
        "max": round(max(values), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("overrides", nargs="*", default=DEFAULT_OVERRIDES)
    args = parser.parse_args()
    rates = ",".join(str(round(0.001 * 2**i, 4)) for i in range(args.trials))
    load_before = os.getloadavg()
    reps: list[dict[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as root:
        for i in range(args.reps):  # alternating, so drifting load hits both alike
            single = one_run(root, f"single{i}", args.overrides)
            sweep = one_run(root, f"sweep{i}", ["-m", f"params.learning_rate={rates}", *args.overrides])
            reps.append({"single": single, "sweep": sweep})
            print(f"rep {i + 1}/{args.reps}: single {single}\n  sweep {sweep}", flush=True)
    single_overhead = [r["single"]["overhead_s"] for r in reps]
    sweep_overhead = [r["sweep"]["overhead_s"] for r in reps]
    result = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_before": load_before,
            "load_after": os.getloadavg(),
        },
        "trials": args.trials,
        "overrides": args.overrides,
        "reps": reps,
        "sweep_overhead_s": spread(sweep_overhead),
        "single_overhead_s": spread(single_overhead),
        "sweep_extra_s": spread([s - b for s, b in zip(sweep_overhead, single_overhead, strict=True)]),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sweep_overhead.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        f"# Local sweep overhead ({args.trials} trials, --parallel 1, {args.reps} repetitions)",
        "",
        "| | median | min | max |",
        "|---|---:|---:|---:|",
        *(
            f"| {label} | {v['median']} s | {v['min']} s | {v['max']} s |"
            for label, v in (
                ("sweep: wall minus training processes", result["sweep_overhead_s"]),
                ("single run: wall minus training process", result["single_overhead_s"]),
                ("the sweep's extra", result["sweep_extra_s"]),
            )
        ),
        "",
        f"Load average before/after: {load_before[0]:.2f} / {result['machine']['load_after'][0]:.2f} "
        f"({os.cpu_count()} CPUs).",
    ]
    (RESULTS / "sweep_overhead.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
