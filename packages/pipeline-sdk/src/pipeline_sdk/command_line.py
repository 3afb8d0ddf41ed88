"""Shared plumbing for every ``pipeline-sdk`` subcommand: argument parsing and the error boundary.

Expected failures become one stderr line and an exit code, never a traceback."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import NoReturn

from pipeline_sdk.errors import SdkError, UsageError


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises :class:`UsageError` instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def command_parser(
    command: str, description: str, formatter_class: type[argparse.HelpFormatter] = argparse.HelpFormatter
) -> ArgumentParser:
    """A parser with the options every config-driven command shares: ``--config-dir`` and overrides."""
    parser = ArgumentParser(
        prog=f"pipeline-sdk {command}", description=description, formatter_class=formatter_class
    )
    parser.add_argument(
        "--config-dir",
        metavar="DIR",
        help="directory holding pipeline.yaml (default: $PIPELINE_SDK_CONFIG_DIR, else the nearest "
        "configs/ from the current directory upwards)",
    )
    parser.add_argument(
        "overrides",
        nargs="*",
        metavar="OVERRIDE",
        help="Hydra overrides of configs/pipeline.yaml, e.g. params.epochs=1 steps.train.resources.accelerator_count=2",
    )
    return parser


def run_command(command: str, body: Callable[[], int]) -> int:
    """Run ``body`` and return its exit code; expected failures print one
    ``pipeline-sdk <command>: error: ...`` line on stderr and return the error's exit code."""
    try:
        return body()
    except SdkError as e:
        print(f"pipeline-sdk {command}: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print(f"pipeline-sdk {command}: interrupted", file=sys.stderr)
        return 130
    except SystemExit as e:  # argparse's --help
        return int(e.code or 0)
    except Exception as e:  # a bug, or a failure nobody foresaw: still one line, and how to see more
        if os.environ.get("PIPELINE_SDK_DEBUG"):
            raise
        print(
            f"pipeline-sdk {command}: internal error: {type(e).__name__}: {' '.join(str(e).split())} "
            "(set PIPELINE_SDK_DEBUG=1 for the traceback, and please report it)",
            file=sys.stderr,
        )
        return 3


__all__ = ["ArgumentParser", "command_parser", "run_command"]
