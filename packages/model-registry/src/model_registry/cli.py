"""The error boundary both console scripts share: every failure is one line on stderr and exit 1.

``register-model`` (:mod:`model_registry.register_cli`) and ``deploy-model`` (:mod:`model_registry.deploy_cli`)
are Hydra applications; a bad input, a refused request, a failed operation or missing credentials prints
``PROG: error: ...`` and exits 1, never a traceback; Ctrl-C exits 130. Outputs are complete or absent.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from model_registry.errors import RegistryError, one_line


def fail(prog: str, message: str) -> None:
    print(f"{prog}: error: {one_line(message)}", file=sys.stderr)
    sys.exit(1)


def guarded(prog: str, body: Callable[[], None]) -> None:
    """Run a Hydra app's body; any exception becomes one error line (Hydra would print a traceback)."""
    from omegaconf.errors import OmegaConfBaseException

    try:
        body()
    except (RegistryError, OmegaConfBaseException) as exc:
        fail(prog, str(exc))
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # a bug, or a failure nobody foresaw: still one line
        fail(prog, f"unexpected {type(exc).__name__}: {exc}")


def main(prog: str, start: Callable[[], None]) -> None:
    """Console-script entry: make the command line safe for Hydra, then ``start`` the Hydra app."""
    from model_registry.executor_input import hydra_safe_args

    try:
        try:
            sys.argv[1:] = hydra_safe_args(sys.argv[1:])
        except RegistryError as exc:
            fail(prog, str(exc))
        start()
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; outputs are complete or absent", file=sys.stderr)
        sys.exit(130)


__all__ = ["fail", "guarded", "main"]
