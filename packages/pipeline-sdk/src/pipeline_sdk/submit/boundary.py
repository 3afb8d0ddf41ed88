"""The command boundary: expected failures become one stderr line and an exit code, never a traceback."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from pipeline_sdk.errors import SdkError, UsageError


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises :class:`UsageError` instead of printing usage and exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def quiet_libraries(verbose: bool) -> None:
    """Library loggers (aiplatform, kfp, google-auth) stay silent unless ``--verbose``: submit reports
    every outcome itself, and some of them log tracebacks for conditions they then recover from."""
    logging.basicConfig(level=logging.INFO if verbose else logging.CRITICAL, format="%(name)s: %(message)s")
    for name in ("google", "kfp", "urllib3"):
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.CRITICAL)


def run_command(command: str, body: Callable[[], None]) -> int:
    """Run ``body``; map SdkError to ``pipeline-sdk COMMAND: error: MESSAGE`` and its exit code."""
    try:
        body()
    except SdkError as e:
        print(f"pipeline-sdk {command}: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print(f"pipeline-sdk {command}: interrupted", file=sys.stderr)
        return 130
    except SystemExit as e:  # argparse --help
        return int(e.code or 0)
    return 0
