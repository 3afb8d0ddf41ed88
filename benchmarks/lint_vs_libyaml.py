"""hydra-yaml-lint against the floor it cannot beat: composing the same files with libyaml.

Two measurements, each against its own libyaml baseline taken in the same run, repeated, interleaved,
reported as median ratios with their spread:

* real files: the corpus of public component and pipeline files in
  ``packages/hydra-yaml-lint/tests/corpus`` (kubeflow/pipelines and others), linted with
  ``--format text`` and ``--format json`` -- end to end as fresh ``hydra-yaml-lint`` processes against a
  fresh Python process that reads and composes the same files (``yaml.compose_all`` with ``CSafeLoader``),
  and in one process with the linter's caches cleared before each run (the work alone, no start-up).
  Goal: within 3x in both formats.
* many arguments: one generated component, ``command: [trainer]`` (this repository's trainer, so its
  Hydra config is discovered and composed), ~40 bytes per argument: Hydra overrides with placeholders,
  argparse flags, a few ``+key=`` additions, repeated keys -- at 1, 4 and 15 MB (the cap is 16 MiB). Each
  size is linted by a fresh process running the CLI, which reports the time inside ``main()`` and its peak
  resident memory; the baseline is a fresh process composing the file. Goal: 4 MB within 25x, under 500 MB.

Writes benchmarks/results/lint_vs_libyaml.json and .md.

    python benchmarks/lint_vs_libyaml.py [--repeats 11] [--sizes 1,4,15]
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

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "packages" / "hydra-yaml-lint" / "tests" / "corpus"
RESULTS = ROOT / "benchmarks" / "results"
SUFFIXES = (".yaml", ".yml", ".json")
GOAL_REAL_FILES = 3.0
GOAL_MANY_ARGS = 25.0
GOAL_MANY_ARGS_MB = 500

COMPOSE_FILES = f"""
import sys, time, yaml
from pathlib import Path
start = time.perf_counter()
for path in sorted(Path(sys.argv[1]).rglob("*")):
    if path.suffix in {SUFFIXES!r} and path.is_file():
        list(yaml.compose_all(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader))
print(time.perf_counter() - start)
"""
LINT_IN_PROCESS = """
import json, resource, sys, time
from hydra_yaml_lint.cli import main
start = time.perf_counter()
code = main(sys.argv[1:])
seconds = time.perf_counter() - start
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"code": code, "seconds": seconds, "peak_mb": peak_mb}), file=sys.stderr)
"""


def _spread(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    quartiles = statistics.quantiles(ordered, n=4) if len(ordered) >= 2 else [ordered[0]] * 3
    return {
        "median": round(statistics.median(ordered), 4),
        "min": round(ordered[0], 4),
        "max": round(ordered[-1], 4),
        "q1": round(quartiles[0], 4),
        "q3": round(quartiles[2], 4),
    }


def _run_seconds(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _clear_caches() -> None:
    """Forget what earlier runs in this process learnt (parsed placeholders, found programs, composed
    configs), as a fresh CLI process would."""
    for name, module in list(sys.modules.items()):
        if name.startswith("hydra_yaml_lint"):
            for value in vars(module).values():
                clear = getattr(value, "cache_clear", None)
                if callable(clear):
                    clear()


def real_files(repeats: int) -> dict[str, object]:
    import yaml

    from hydra_yaml_lint.formatters import FORMATTERS
    from hydra_yaml_lint.linter import lint_files

    files = sorted(path for path in CORPUS.rglob("*") if path.suffix in SUFFIXES and path.is_file())
    executable = shutil.which("hydra-yaml-lint") or str(Path(sys.executable).with_name("hydra-yaml-lint"))
    compose_process = [sys.executable, "-c", COMPOSE_FILES, "."]

    def compose_in_process() -> None:
        for path in files:
            list(yaml.compose_all(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader))

    def lint_in_process(fmt: str) -> None:
        _clear_caches()
        results = lint_files([CORPUS], jobs=1)
        texts = {r.display: r.original for r in results if r.original is not None}
        FORMATTERS[fmt]([d for r in results for d in r.diagnostics], texts)

    runs: dict[str, list[float]] = {
        key: [] for key in ("process_compose", "process_text", "process_json", "compose", "text", "json")
    }
    lint_in_process("text")  # warm-up: imports, page cache
    _run_seconds(compose_process, CORPUS)
    for _ in range(repeats):
        runs["process_compose"].append(_run_seconds(compose_process, CORPUS))
        runs["process_text"].append(_run_seconds([executable, ".", "--exit-zero"], CORPUS))
        runs["process_json"].append(
            _run_seconds([executable, ".", "--format", "json", "--exit-zero"], CORPUS)
        )
        for key, function in (
            ("compose", compose_in_process),
            ("text", lambda: lint_in_process("text")),
            ("json", lambda: lint_in_process("json")),
        ):
            start = time.perf_counter()
            function()
            runs[key].append(time.perf_counter() - start)
    ratios = {
        "process_text": [t / c for t, c in zip(runs["process_text"], runs["process_compose"], strict=True)],
        "process_json": [t / c for t, c in zip(runs["process_json"], runs["process_compose"], strict=True)],
        "text": [t / c for t, c in zip(runs["text"], runs["compose"], strict=True)],
        "json": [t / c for t, c in zip(runs["json"], runs["compose"], strict=True)],
    }
    return {
        "files": len(files),
        "bytes": sum(path.stat().st_size for path in files),
        "repeats": repeats,
        "seconds": {key: _spread(values) for key, values in runs.items()},
        "ratio": {key: _spread(values) for key, values in ratios.items()},
    }


def many_args_component(target_bytes: int, seed: int = 0) -> str:
    """A component of about ``target_bytes`` whose program is this repository's ``trainer``."""
    rng = random.Random(seed)
    names = [f"p{index}" for index in range(100)]
    lines = ["name: many-args", "inputs:", "- {name: epochs, type: Integer}", "- {name: data, type: Dataset}"]
    lines += [
        f"- {{name: {name}, type: {'String' if index % 2 else 'Float'}}}" for index, name in enumerate(names)
    ]
    lines += ["outputs:", "- {name: model, type: Model}", "implementation:", "  container:"]
    lines += ["    image: trainer:1", "    command: [trainer]", "    args:"]
    lines += [
        "    - data.data_dir={{$.inputs.artifacts['data'].path}}",
        "    - trainer.max_epochs={{$.inputs.parameters['epochs']}}",
        "    - paths.output_dir={{$.outputs.artifacts['model'].path}}",
    ]
    size = sum(len(line) + 1 for line in lines)
    index = 0
    while size < target_bytes:
        name = rng.choice(names)
        kind = index % 10
        if kind in (0, 1, 2, 3):
            items = [f"model.net.layer_{index}={{{{$.inputs.parameters['{name}']}}}}"]
        elif kind in (4, 5):
            items = [f"data.option_{index}={rng.randrange(1000)}"]
        elif kind == 6:
            items = [f"--flag-{index}", f"{{inputValue: {name}}}"]
        elif kind == 7:
            items = ["trainer.max_epochs=3"]
        elif kind == 8:
            items = [f"'model.tag_{index}=\"a b\"'"]
        else:
            items = [
                f"+callbacks.extra_{index}={rng.randrange(10)}"
                if index % 50 == 9
                else f"data.list_{index}=[1,2]"
            ]
        for item in items:
            line = f"    - {item}"
            lines.append(line)
            size += len(line) + 1
        index += 1
    return "\n".join(lines) + "\n"


def many_args(sizes_mb: list[float], repeats: int) -> list[dict[str, object]]:
    workdir = Path(tempfile.mkdtemp(prefix="lint-many-args-"))
    out = []
    try:
        for size in sizes_mb:
            path = workdir / f"component_{size}mb.yaml"
            path.write_text(many_args_component(int(size * 1024 * 1024)))
            compose = [sys.executable, "-c", COMPOSE_FILES.replace("rglob", "glob"), "."]
            compose_s: list[float] = []
            lint_s: list[float] = []
            peaks: list[float] = []
            count = repeats if size <= 4 else 1
            for _ in range(count):
                result = subprocess.run(compose, cwd=workdir, capture_output=True, text=True, check=True)
                compose_s.append(float(result.stdout))
                run = subprocess.run(
                    [sys.executable, "-c", LINT_IN_PROCESS, path.name, "--exit-zero"],
                    cwd=workdir,
                    capture_output=True,
                    text=True,
                )
                report = json.loads(run.stderr.strip().splitlines()[-1])
                lint_s.append(report["seconds"])
                peaks.append(report["peak_mb"])
                shown = run.stdout.count("\n")
            out.append(
                {
                    "size_mb": size,
                    "bytes": path.stat().st_size,
                    "arguments": path.read_text().count("\n    - "),
                    "repeats": count,
                    "diagnostics_printed": shown,
                    "compose_s": _spread(compose_s),
                    "lint_s": _spread(lint_s),
                    "ratio": _spread([lint / base for lint, base in zip(lint_s, compose_s, strict=True)]),
                    "peak_mb": _spread(peaks),
                }
            )
            path.unlink()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return out


def _markdown(result: dict) -> str:  # type: ignore[type-arg]
    real = result["real_files"]
    ratio, seconds = real["ratio"], real["seconds"]

    def cell(spread: dict[str, float]) -> str:
        return f"**{spread['median']:.2f}x** ({spread['min']:.2f}-{spread['max']:.2f})"

    lines = [
        "# hydra-yaml-lint against libyaml compose",
        "",
        f"Python {result['python']}, {result['machine']}, {result['cpus']} CPUs, 1-min load average "
        f"{result['load_average_1min_at_end']} at the end; medians with (min-max) over {real['repeats']} "
        "interleaved repetitions; ratios are per repetition against the baseline run beside it.",
        "",
        f"## Real files: {real['files']} public component and pipeline files, {real['bytes']:,} bytes",
        "",
        "| measurement | lint / compose | lint | compose |",
        "|---|---|---|---|",
        f"| CLI process, `--format text` | {cell(ratio['process_text'])} | "
        f"{seconds['process_text']['median']:.3f} s | {seconds['process_compose']['median']:.3f} s |",
        f"| CLI process, `--format json` | {cell(ratio['process_json'])} | "
        f"{seconds['process_json']['median']:.3f} s | {seconds['process_compose']['median']:.3f} s |",
        f"| in process, text (work only, caches cleared) | {cell(ratio['text'])} | "
        f"{seconds['text']['median']:.3f} s | {seconds['compose']['median']:.3f} s |",
        f"| in process, json (work only, caches cleared) | {cell(ratio['json'])} | "
        f"{seconds['json']['median']:.3f} s | {seconds['compose']['median']:.3f} s |",
        "",
        f"Goal: within {GOAL_REAL_FILES}x. A process baseline is a fresh `python` composing the files.",
        "",
        "## Many arguments: one component, this repository's trainer (config composed)",
        "",
        "| size | arguments | lint / compose | lint | compose | peak memory |",
        "|---|---|---|---|---|---|",
    ]
    for row in result["many_args"]:
        lines.append(
            f"| {row['bytes'] / 1024 / 1024:.1f} MB | {row['arguments']:,} | {cell(row['ratio'])} | "
            f"{row['lint_s']['median']:.2f} s | {row['compose_s']['median']:.3f} s | {row['peak_mb']['median']:.0f} MB |"
        )
    lines += [
        "",
        f"Goal: 4 MB within {GOAL_MANY_ARGS}x and under {GOAL_MANY_ARGS_MB} MB. Findings beyond 50 per rule "
        "and file are counted in one line, so the output stays small.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--sizes", default="1,4,15", help="many-arguments sizes in MB, comma-separated")
    options = parser.parse_args()
    from hydra_yaml_lint import __version__

    result: dict[str, object] = {
        "benchmark": "lint_vs_libyaml",
        "hydra_yaml_lint_version": __version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "real_files": real_files(options.repeats),
        "many_args": many_args(
            [float(size) for size in options.sizes.split(",")], max(3, options.repeats // 3)
        ),
    }
    result["load_average_1min_at_end"] = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    real = result["real_files"]
    four = [row for row in result["many_args"] if row["size_mb"] == 4]  # type: ignore[union-attr]
    result["goals_met"] = {
        "real_files_text": real["ratio"]["process_text"]["median"] <= GOAL_REAL_FILES,  # type: ignore[index]
        "real_files_json": real["ratio"]["process_json"]["median"] <= GOAL_REAL_FILES,  # type: ignore[index]
        "many_args_4mb_ratio": bool(four) and four[0]["ratio"]["median"] <= GOAL_MANY_ARGS,
        "many_args_4mb_memory": bool(four) and four[0]["peak_mb"]["median"] <= GOAL_MANY_ARGS_MB,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "lint_vs_libyaml.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "lint_vs_libyaml.md").write_text(_markdown(result))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
