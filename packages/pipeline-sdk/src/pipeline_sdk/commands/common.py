"""Shared plumbing for every ``pipeline-sdk`` subcommand: argument parsing and the error boundary.

Expected failures become one stderr line and an exit code, never a traceback."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from collections.abc import Callable
from typing import NoReturn

from pipeline_sdk.errors import SdkError, UsageError, one_line


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises :class:`UsageError` instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def command_parser(
    command: str,
    description: str,
    formatter_class: type[argparse.HelpFormatter] = argparse.HelpFormatter,
    sweeps: bool = True,
) -> ArgumentParser:
    """A parser with the options every config-driven command shares: ``--config-dir``, overrides and, for
    the commands that compile the pipeline (``sweeps``), ``-m``."""
    parser = ArgumentParser(
        prog=f"pipeline-sdk {command}", description=description, formatter_class=formatter_class
    )
    parser.add_argument(
        "--config-dir",
        metavar="DIR",
        help="directory holding pipeline.yaml (default: $PIPELINE_SDK_CONFIG_DIR, else the nearest "
        "configs/ from the current directory upwards)",
    )
    if sweeps:
        parser.add_argument(
            "-m",
            "--multirun",
            action="store_true",
            help="sweep: one trial per combination of the swept parameters' values (Hydra's sweep "
            "grammar, e.g. -m params.learning_rate=0.002,0.004 params.batch_size=128,256), run in parallel",
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
            f"pipeline-sdk {command}: internal error: {type(e).__name__}: {one_line(e)} "
            "(set PIPELINE_SDK_DEBUG=1 for the traceback, and please report it)",
            file=sys.stderr,
        )
        return 3


def add_client_options(parser: argparse.ArgumentParser) -> None:
    """``--timeout S`` (each network wait), ``-v/--verbose`` (the client libraries' logs) and
    ``--allow-plain-http``."""
    parser.add_argument(
        "--timeout", type=float, default=60.0, metavar="S", help="limit for each network wait (default: 60)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show the client libraries' logs")
    parser.add_argument(
        "--allow-plain-http",
        action="store_true",
        help="send credentials to an http:// endpoint that is not this machine (a network you trust)",
    )


def add_wait_options(parser: argparse.ArgumentParser) -> None:
    """``--wait``, ``--poll-interval S`` and ``--wait-timeout S``: following a run until it ends."""
    parser.add_argument(
        "--wait", action="store_true", help="poll until the run ends; exit 0 only if it succeeded"
    )
    parser.add_argument(
        "--poll-interval",
        type=float,
        default=15.0,
        metavar="S",
        help="seconds between polls with --wait (default: 15)",
    )
    parser.add_argument(
        "--wait-timeout",
        type=float,
        default=None,
        metavar="S",
        help="give up waiting after S seconds (the run keeps going; default: no limit)",
    )


def echo(line: str) -> None:
    """A result line on stdout."""
    print(line, flush=True)


def note(line: str) -> None:
    """A note on stderr (stdout stays the command's result)."""
    print(line, file=sys.stderr, flush=True)


def require_positive(args: argparse.Namespace, *names: str) -> None:
    """Raise :class:`UsageError` for the first of the ``names`` options that is set but not positive."""
    for name in names:
        value = getattr(args, name)
        if value is not None and not value > 0:
            raise UsageError(f"--{name.replace('_', '-')} must be positive, got {value:g}")


def quiet_libraries(verbose: bool) -> None:
    """Library loggers (aiplatform, kfp, google-auth) stay silent unless ``--verbose``: the commands report
    every outcome themselves, and some of them log tracebacks for conditions they then recover from."""
    logging.basicConfig(level=logging.INFO if verbose else logging.CRITICAL, format="%(name)s: %(message)s")
    for name in ("google", "kfp", "urllib3"):
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.CRITICAL)
    if not verbose:
        # google-api-core warns at import, once per module (~25 lines), on Python versions Google no longer
        # supports (3.10): advice about Google's release policy that would bury the command's own result
        warnings.filterwarnings(
            "ignore", message="You are using a non-supported Python version", category=FutureWarning
        )


__all__ = [
    "ArgumentParser",
    "add_client_options",
    "command_parser",
    "quiet_libraries",
    "require_positive",
    "run_command",
]
