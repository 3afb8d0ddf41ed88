"""The `pipeline-sdk` entry point stays light: heavy libraries load only in the command that needs them."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest

HEAVY = ("kfp", "google.cloud.aiplatform", "google.protobuf", "torch", "lightning")


def heavy(modules: set[str], names: tuple[str, ...] = HEAVY) -> set[str]:
    return {m for m in modules if any(m == n or m.startswith(n + ".") for n in names)}


def imported_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_help_imports_no_heavy_library() -> None:
    modules = imported_after("from pipeline_sdk.cli import main\nmain(['--help'])")
    assert not heavy(modules, (*HEAVY, "hydra", "omegaconf"))


@pytest.mark.parametrize("command", ["compile", "run"])
def test_command_help_imports_no_heavy_library(command: str) -> None:
    modules = imported_after(
        "from pipeline_sdk.cli import main\n"
        f"try:\n    main(['{command}', '--help'])\nexcept SystemExit:\n    pass"
    )
    assert not heavy(modules)


@pytest.mark.parametrize("args", [["runs", "--help"], ["runs", "list", "--help"], ["runs", "show", "--help"]])
def test_runs_help_imports_no_heavy_library(args: list[str]) -> None:
    modules = imported_after(
        "import contextlib, io\nfrom pipeline_sdk.cli import main\n"  # the help text is not module names
        f"with contextlib.redirect_stdout(io.StringIO()):\n    main({args!r})"
    )
    assert not heavy(modules, (*HEAVY, "hydra", "omegaconf"))


def test_compile_help_lists_the_options(sdk: Callable) -> None:
    result = sdk("compile", "--help")
    assert result.returncode == 0
    for option in ("--output", "--config-dir", "OVERRIDE"):
        assert option in result.stdout


def test_run_help_lists_the_options(sdk: Callable) -> None:
    result = sdk("run", "--help")
    assert result.returncode == 0
    for option in ("--run-name", "--show-logs", "--config-dir", "OVERRIDE"):
        assert option in result.stdout
