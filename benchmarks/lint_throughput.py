"""hydra-yaml-lint throughput and start-up.

Generates N realistic KFP component files (~20 Hydra-style args, some with mistakes), then measures in
one process (several repetitions, median):
  * syntax rules (every rule except the Hydra-config ones) over all files  -> files/s
  * baselines on the same files: libyaml compose with marks (what the linter parses with) and
    ruamel.yaml's round-trip loader (the alternative for positions)
and as subprocesses: `hydra-yaml-lint --version` against `python -c pass`, and a cold
`hydra-yaml-lint configs/` run (config-key rule included) on this repository.

Writes benchmarks/results/lint_throughput.json and .md.

    python benchmarks/lint_throughput.py [--files 2000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from hydra_yaml_lint import Settings, __version__
from hydra_yaml_lint.linter import lint_files
from hydra_yaml_lint.rules import ALL_RULES, RULES

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
GOAL_FILES_PER_S = 2000
GOAL_STARTUP_MS = 150

GROUPS = ["trainer", "model.optimizer", "data", "callbacks.early_stopping", "logger.tensorboard", "paths"]
LEAVES = ["max_epochs", "lr", "batch_size", "patience", "save_dir", "num_workers", "weight_decay", "gamma"]


def component_text(rng: random.Random, index: int) -> str:
    """One component: 8 inputs, 3 outputs, ~20 args; about one file in ten has a mistake."""
    inputs = [
        ("dataset", "Dataset"),
        ("epochs", "Integer"),
        ("learning_rate", "Float"),
        ("batch_size", "Integer"),
        ("seed", "Integer"),
        ("experiment", "String"),
        ("use_amp", "Boolean"),
        ("tags", "JsonArray"),
    ]
    outputs = [
        ("model", "Model"),
        ("metrics", "Metrics"),
        ("classification_metrics", "ClassificationMetrics"),
    ]
    args = [
        "data.data_dir={{$.inputs.artifacts['dataset'].path}}",
        "trainer.max_epochs={{$.inputs.parameters['epochs']}}",
        "model.optimizer.lr={{$.inputs.parameters['learning_rate']}}",
        "data.batch_size={{$.inputs.parameters['batch_size']}}",
        "seed={{$.inputs.parameters['seed']}}",
        "experiment='{{$.inputs.parameters['experiment']}}'",
        "trainer.precision={{$.inputs.parameters['use_amp']}}",
        "logger.tags={{$.inputs.parameters['tags']}}",
        "paths.output_dir={{$.outputs.artifacts['model'].path}}",
        "kfp.output_file={{$.outputs.output_file}}",
        "kfp.metrics_uri={{$.outputs.artifacts['metrics'].uri}}",
        "kfp.classification_metrics_uri={{$.outputs.artifacts['classification_metrics'].uri}}",
        "hydra.run.dir={{$.pipeline_root}}/{{$.pipeline_job_uuid}}",
    ]
    while len(args) < 20:
        key = f"{rng.choice(GROUPS)}.{rng.choice(LEAVES)}_{rng.randrange(1000)}"
        value = rng.choice([str(rng.randrange(1, 500)), f"{rng.random():.5f}", "true", "'a b c'", "/gcs/b/x"])
        args.append(f"+{key}={value}")
    if index % 10 == 0:
        args[1] = "--epochs"
        args.insert(2, "{inputValue: epochs}")
    elif index % 10 == 5:
        args[0] = 'data.data_dir={{$.inputs.artifacts["dataset"].path}}'
    lines = [f"name: train-{index}", "inputs:"]
    lines += [f"- {{name: {name}, type: {type_}}}" for name, type_ in inputs]
    lines += ["outputs:"] + [f"- {{name: {name}, type: {type_}}}" for name, type_ in outputs]
    lines += [
        "implementation:",
        "  container:",
        f"    image: registry/trainer:0.1.{index}",
        "    command: [trainer]",
    ]
    lines += ["    args:"] + [f"    - {arg}" for arg in args]
    return "\n".join(lines) + "\n"


def _median_seconds(function, repeats: int, clock=time.perf_counter) -> tuple[float, list[float]]:  # type: ignore[no-untyped-def]
    """Median (and all) durations of ``function()``; ``clock=time.process_time`` measures this process's
    CPU time, which other jobs on a shared machine disturb far less than wall time."""
    times = []
    for _ in range(repeats):
        start = clock()
        function()
        times.append(clock() - start)
    return statistics.median(times), times


def _process_ms(command: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=False, capture_output=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    options = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="lint-bench-"))
    try:
        rng = random.Random(0)
        paths = []
        for index in range(options.files):
            path = workdir / f"component_{index:05d}.yaml"
            path.write_text(component_text(rng, index))
            paths.append(path)
        texts = [path.read_text() for path in paths]

        syntax = [code for code, rule in RULES.items() if not rule.RULE.needs_hydra_config]
        syntax += [code for code in ALL_RULES if code not in RULES]
        offline = Settings(discover_configs=False)

        def run_lint(jobs: int) -> list:
            return lint_files(paths, select=syntax, config=offline, jobs=jobs)

        found = sum(len(result.diagnostics) for result in run_lint(1))  # warm-up (and a sanity check)
        lint_s, lint_runs = _median_seconds(lambda: run_lint(1), options.repeats)
        lint_cpu_s, _ = _median_seconds(lambda: run_lint(1), options.repeats, time.process_time)
        workers = os.cpu_count() or 1
        parallel_s, _ = _median_seconds(lambda: run_lint(workers), options.repeats)

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

        def compose_all() -> list:
            return [yaml.compose(text, Loader=loader) for text in texts]

        compose_s, _ = _median_seconds(compose_all, options.repeats)
        compose_cpu_s, _ = _median_seconds(compose_all, options.repeats, time.process_time)
        ruamel_s = None
        try:
            from ruamel.yaml import YAML

            round_trip = YAML(typ="rt")
            ruamel_s, _ = _median_seconds(
                lambda: [round_trip.load(text) for text in texts], max(1, options.repeats // 2)
            )
        except ImportError:
            pass

        executable = shutil.which("hydra-yaml-lint") or str(Path(sys.executable).with_name("hydra-yaml-lint"))
        startup_repeats = 15
        baseline_ms = _process_ms([sys.executable, "-c", "pass"], startup_repeats)
        version_ms = _process_ms([executable, "--version"], startup_repeats)
        repo_configs_ms = (
            _process_ms([executable, str(ROOT / "configs")], 3) if (ROOT / "configs").is_dir() else None
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    files_per_s = options.files / lint_s
    parallel_files_per_s = options.files / parallel_s
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    result = {
        "benchmark": "lint_throughput",
        "hydra_yaml_lint_version": __version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "files": options.files,
        "args_per_file": 20,
        "repeats": options.repeats,
        "diagnostics_found": found,
        "syntax_rules": syntax,
        "syntax_rules_s_median": round(lint_s, 4),
        "syntax_rules_s_runs": [round(t, 4) for t in lint_runs],
        "syntax_rules_files_per_s": round(files_per_s, 1),
        "syntax_rules_cpu_files_per_s": round(options.files / lint_cpu_s, 1),
        "baseline_libyaml_compose_cpu_files_per_s": round(options.files / compose_cpu_s, 1),
        "syntax_rules_parallel_workers": workers,
        "syntax_rules_parallel_files_per_s": round(parallel_files_per_s, 1),
        "load_average_1min_at_end": round(load, 2) if load is not None else None,
        "baseline_libyaml_compose_files_per_s": round(options.files / compose_s, 1),
        "baseline_ruamel_roundtrip_files_per_s": round(options.files / ruamel_s, 1) if ruamel_s else None,
        "lint_cost_vs_libyaml_compose": round(lint_s / compose_s, 2),
        "startup_version_ms_median": round(version_ms, 1),
        "startup_python_pass_ms_median": round(baseline_ms, 1),
        "startup_overhead_ms": round(version_ms - baseline_ms, 1),
        "repo_configs_cold_run_ms_median": round(repo_configs_ms, 1) if repo_configs_ms else None,
        "goals": {"files_per_s": GOAL_FILES_PER_S, "startup_ms": GOAL_STARTUP_MS},
        "goals_met": {
            "files_per_s": max(files_per_s, parallel_files_per_s) >= GOAL_FILES_PER_S,
            "files_per_cpu_s": options.files / lint_cpu_s >= GOAL_FILES_PER_S,
            "startup_ms": version_ms <= GOAL_STARTUP_MS,
        },
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "lint_throughput.json").write_text(json.dumps(result, indent=2) + "\n")
    ruamel_line = (
        f"| ruamel.yaml round-trip load (alternative) | {result['baseline_ruamel_roundtrip_files_per_s']} files/s |\n"
        if ruamel_s
        else ""
    )
    (RESULTS / "lint_throughput.md").write_text(
        "# hydra-yaml-lint throughput\n\n"
        f"{options.files} generated components, 20 args each, median of {options.repeats} runs in one process "
        f"(Python {result['python']}, {result['machine']}, {os.cpu_count()} CPUs, 1-min load average "
        f"{result['load_average_1min_at_end']} at the end).\n\n"
        "| measurement | result |\n|---|---|\n"
        f"| syntax rules ({len(syntax)} codes), 1 process | **{result['syntax_rules_files_per_s']} files/s** "
        f"(goal ≥ {GOAL_FILES_PER_S}) |\n"
        f"| syntax rules, 1 process, per CPU-second (robust to other load) | "
        f"**{result['syntax_rules_cpu_files_per_s']} files/s** |\n"
        f"| syntax rules, {workers} processes (the CLI's default for ≥ 200 files) | "
        f"**{result['syntax_rules_parallel_files_per_s']} files/s** |\n"
        f"| libyaml compose with marks (parse only, baseline) | {result['baseline_libyaml_compose_files_per_s']} "
        f"files/s; {result['baseline_libyaml_compose_cpu_files_per_s']} per CPU-second |\n"
        f"{ruamel_line}"
        f"| lint time / parse time | {result['lint_cost_vs_libyaml_compose']}x |\n"
        f"| `hydra-yaml-lint --version` | **{result['startup_version_ms_median']} ms** (goal ≤ {GOAL_STARTUP_MS}) |\n"
        f"| `python -c pass` (baseline, same run) | {result['startup_python_pass_ms_median']} ms |\n"
        f"| `hydra-yaml-lint configs/` cold, config-key rule included | {result['repo_configs_cold_run_ms_median']} ms |\n"
    )
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
