"""Options and logging shared by the commands that call a remote API (``submit``, ``publish``)."""

from __future__ import annotations

import argparse
import logging

from pipeline_sdk.errors import UsageError


def add_client_options(parser: argparse.ArgumentParser) -> None:
    """``--timeout S`` (each network wait) and ``-v/--verbose`` (the client libraries' logs)."""
    parser.add_argument(
        "--timeout", type=float, default=60.0, metavar="S", help="limit for each network wait (default: 60)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show the client libraries' logs")


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
