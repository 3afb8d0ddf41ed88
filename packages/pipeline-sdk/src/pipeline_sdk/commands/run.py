"""``pipeline-sdk run [-m] [--parallel N] [--run-name NAME] [--show-logs] [--config-dir DIR] [OVERRIDES...]``."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from pipeline_sdk.commands.common import command_parser, require_positive, run_command

DESCRIPTION = (
    "Run the compiled pipeline locally: each task's command runs as a subprocess in this environment "
    "(no cloud account, no Docker); artifacts and logs go under local.root/<run>/<task>/. Prints the "
    "run directory, which holds run.json. With -m, the sweep's trials run --parallel at a time, one line "
    "per finished trial; then the comparison table, the best trial's model and report.html are shown."
)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    parser = command_parser("run", DESCRIPTION)
    parser.add_argument(
        "--run-name", metavar="NAME", help="run directory name (default: <pipeline>-<timestamp>)"
    )
    parser.add_argument("--show-logs", action="store_true", help="stream each step's log to the terminal")
    parser.add_argument(
        "--parallel", type=int, default=1, metavar="N", help="sweep trials running at once (default: 1)"
    )

    def body() -> int:
        args = parser.parse_intermixed_args(argv)
        require_positive(args, "parallel")
        # SIGTERM (a CI timeout, `kill`) stops the running step and records the run like Ctrl-C does.
        signal.signal(signal.SIGTERM, _interrupt)
        from pipeline_sdk.local import run_locally
        from pipeline_sdk.sweep import load_with_sweep

        cfg, sweep = load_with_sweep(args.overrides, args.config_dir, args.multirun)
        result = run_locally(
            cfg,
            run_name=args.run_name,
            echo_logs=args.show_logs,
            sweep=sweep,
            parallel=args.parallel,
        )
        if sweep is not None:
            _show_sweep(result, [str(name) for name in cfg.sweep.steps])
            print(result.run_dir)
            return 0
        for task, outputs in result.metrics.items():
            for name, metadata in outputs.items():
                scalars = {k: v for k, v in metadata.items() if isinstance(v, (int, float))}
                if scalars:
                    shown = "  ".join(f"{k}={v:.4g}" for k, v in sorted(scalars.items()))
                    print(f"{task} {name}: {shown}", file=sys.stderr)
        print(result.run_dir)
        return 0

    return run_command("run", body)


def printable(text: str) -> str:
    """``text`` for a terminal: control characters other than line breaks and tabs (an escape sequence in a
    step's output) are shown as ``\\xNN`` instead of acting on the terminal."""
    import unicodedata

    return "".join(
        ch if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf") else ascii(ch)[1:-1] for ch in text
    )


def _show_sweep(result: Any, sweep_steps: list[str]) -> None:
    """The sweep steps' Markdown outputs (the comparison table), their models, and the report."""
    from pipeline_sdk.local.runner import REPORT_FILE

    after = {name: result.record.tasks[name] for name in sweep_steps if name in result.record.tasks}
    for task in after.values():
        for output in task.outputs.values():
            if output.get("type") == "system.Markdown" and Path(output["uri"]).is_file():
                print(printable(Path(output["uri"]).read_text(errors="replace").rstrip()), file=sys.stderr)
    for task_name, task in after.items():
        for name, output in task.outputs.items():
            if output.get("type") == "system.Model":
                print(f"{task_name} {name}: {output['uri']}", file=sys.stderr)
    report = result.run_dir / REPORT_FILE
    if report.is_file():
        print(f"report: {report}", file=sys.stderr)
