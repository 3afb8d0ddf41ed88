"""``pipeline-sdk run [--run-name NAME] [--show-logs] [--config-dir DIR] [OVERRIDES...]``."""

from __future__ import annotations

import signal
import sys
from types import FrameType

from pipeline_sdk.commands.common import command_parser, run_command

DESCRIPTION = (
    "Run the compiled pipeline locally: each task's command runs as a subprocess in this environment "
    "(no cloud account, no Docker); artifacts and logs go under local.root/<run>/<task>/. Prints the "
    "run directory, which holds run.json."
)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    parser = command_parser("run", DESCRIPTION)
    parser.add_argument(
        "--run-name", metavar="NAME", help="run directory name (default: <pipeline>-<timestamp>)"
    )
    parser.add_argument("--show-logs", action="store_true", help="stream each step's log to the terminal")

    def body() -> int:
        args = parser.parse_intermixed_args(argv)
        # SIGTERM (a CI timeout, `kill`) stops the running step and records the run like Ctrl-C does.
        signal.signal(signal.SIGTERM, _interrupt)
        from pipeline_sdk.config import load_config
        from pipeline_sdk.local import run_locally

        cfg = load_config(args.overrides, args.config_dir)
        result = run_locally(cfg, run_name=args.run_name, echo_logs=args.show_logs)
        for task, outputs in result.metrics.items():
            for name, metadata in outputs.items():
                scalars = {k: v for k, v in metadata.items() if isinstance(v, (int, float))}
                if scalars:
                    shown = "  ".join(f"{k}={v:.4g}" for k, v in sorted(scalars.items()))
                    print(f"{task} {name}: {shown}", file=sys.stderr)
        print(result.run_dir)
        return 0

    return run_command("run", body)
