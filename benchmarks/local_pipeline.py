"""Benchmark `pipeline-sdk run` (defaults, real Fashion-MNIST) and `pipeline-sdk --help` start-up.

Usage: python benchmarks/local_pipeline.py [--reps N] [--help-reps N] [--skip-run] [OVERRIDES...]

* local pipeline: wall time of `pipeline-sdk run` with the default config (what `hatch run local`
  does), N repetitions, median; per-step durations and the test accuracy come from each run's run.json.
* start-up: `pipeline-sdk --help` against the baseline `python -c pass`, measured in the same run,
  median of --help-reps repetitions each; the ratio is the figure to compare across machines.

The machine's load average is recorded before and after: other work on a 2-core machine skews the numbers.
Results: benchmarks/results/local_pipeline.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cpu import cpu_model  # this directory, on sys.path when run as a script

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
BIN = Path(sys.executable).parent


def timed(cmd: list[str], **kwargs: object) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    return time.perf_counter() - start, done


def startup(reps: int) -> dict[str, float]:
    sdk = str(BIN / "pipeline-sdk")
    baseline, helps = [], []
    for _ in range(reps):  # interleaved, so drifting load hits both alike
        baseline.append(timed([sys.executable, "-c", "pass"])[0])
        seconds, done = timed([sdk, "--help"])
        if done.returncode != 0:
            raise SystemExit(f"pipeline-sdk --help failed: {done.stderr}")
        helps.append(seconds)
    base, help_ = statistics.median(baseline), statistics.median(helps)
    return {"python_pass_s": round(base, 4), "sdk_help_s": round(help_, 4), "ratio": round(help_ / base, 2)}


def local_runs(reps: int, overrides: list[str], on_rep: Callable[[dict[str, object]], None]) -> None:
    """Run the pipeline ``reps`` times; ``on_rep`` gets the summary so far after each repetition."""
    sdk = str(BIN / "pipeline-sdk")
    runs: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="bench-local-") as root:
        for i in range(reps):
            seconds, done = timed(
                [sdk, "run", f"local.root={root}", "--run-name", f"rep{i}", *overrides], cwd=ROOT
            )
            if done.returncode != 0:
                raise SystemExit(f"pipeline-sdk run failed:\n{done.stderr}")
            record = json.loads((Path(root) / f"rep{i}" / "run.json").read_text())
            steps = {name: task["duration_s"] for name, task in record["tasks"].items()}
            accuracy = record["metrics"]["train"]["metrics"]["test_accuracy"]
            runs.append({"wall_s": round(seconds, 2), "steps_s": steps, "test_accuracy": accuracy})
            print(
                f"run {i + 1}/{reps}: {seconds:.1f} s, steps {steps}, test_accuracy {accuracy:.4f}",
                flush=True,
            )
            shutil.rmtree(Path(root) / f"rep{i}")
            on_rep(
                {
                    "overrides": overrides,
                    "reps": runs,
                    "median_wall_s": round(statistics.median(r["wall_s"] for r in runs), 2),
                    "median_test_accuracy": round(statistics.median(r["test_accuracy"] for r in runs), 4),
                }
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3, help="local pipeline runs (default 3)")
    parser.add_argument("--help-reps", type=int, default=15, help="start-up measurements (default 15)")
    parser.add_argument("--skip-run", action="store_true", help="only measure start-up")
    parser.add_argument("overrides", nargs="*", help="pipeline-sdk overrides for the run (default: none)")
    args = parser.parse_args()

    load_before = os.getloadavg()
    result: dict[str, object] = {
        "benchmark": "local_pipeline",
        "machine": {
            "cpus": os.cpu_count(),
            "cpu": cpu_model(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "startup": startup(args.help_reps),
    }
    print(f"start-up: {result['startup']}", flush=True)

    def save(local_run: dict[str, object] | None = None) -> None:
        if local_run is not None:
            result["local_run"] = local_run
        result["load_average"] = {
            "before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in os.getloadavg()],
        }
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "local_pipeline.json").write_text(json.dumps(result, indent=2) + "\n")
        (RESULTS / "local_pipeline.md").write_text(markdown(result))

    save()
    if not args.skip_run:
        local_runs(args.reps, args.overrides, save)
    print(f"wrote {RESULTS / 'local_pipeline.json'} and .md")
    return 0


def markdown(result: dict) -> str:
    s = result["startup"]
    lines = [
        "# local_pipeline",
        "",
        f"Machine: {result['machine']['cpus']} CPUs ({result['machine']['cpu']}), "
        f"Python {result['machine']['python']}; load average before {result['load_average']['before'][0]}, "
        f"after {result['load_average']['after'][0]}.",
        "",
        "| measurement | median |",
        "|---|---|",
        f"| `python -c pass` (baseline) | {s['python_pass_s'] * 1000:.0f} ms |",
        f"| `pipeline-sdk --help` | {s['sdk_help_s'] * 1000:.0f} ms ({s['ratio']}x baseline) |",
    ]
    run = result.get("local_run")
    if run:
        steps = " / ".join(
            f"{name} {statistics.median(r['steps_s'][name] for r in run['reps']):.1f} s"
            for name in run["reps"][0]["steps_s"]
        )
        walls = [r["wall_s"] for r in run["reps"]]
        lines += [
            f"| `pipeline-sdk run` {' '.join(run['overrides']) or '(defaults)'}, wall, {len(run['reps'])} reps | "
            f"{run['median_wall_s']:.1f} s ({min(walls):.1f} to {max(walls):.1f} s; steps: {steps}) |",
            f"| test accuracy | {run['median_test_accuracy']:.4f} |",
        ]
    busiest = max(result["load_average"]["before"][0], result["load_average"]["after"][0])
    if busiest > result["machine"]["cpus"]:
        lines += [
            "",
            f"Load average reached {busiest} on {result['machine']['cpus']} CPUs: other jobs shared the machine, "
            "so these wall times are upper bounds.",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
