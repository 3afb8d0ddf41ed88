"""Shared fixtures: a tiny Hydra app package and a way to run the console script."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def hydra_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An importable package ``toyapp`` whose ``toyapp.cli`` is a ``@hydra.main`` app with config
    ``toyapp/conf/train.yaml`` (groups data, model, experiment); its directory is on sys.path."""
    root = tmp_path / "site"
    package = root / "toyapp"
    files = {
        "__init__.py": "raise RuntimeError('toyapp must not be imported by the linter')\n",
        "cli.py": textwrap.dedent(
            """\
            import hydra

            from toyapp.train import run


            @hydra.main(config_path="conf", config_name="train", version_base="1.3")
            def main(cfg):
                run(cfg)
            """
        ),
        "train.py": "def run(cfg):\n    return cfg\n",
        "conf/train.yaml": "defaults:\n  - data: fashion_mnist\n  - model: cnn\n  - experiment: null\n"
        "  - _self_\ntrainer:\n  max_epochs: 3\npaths:\n  output_dir: ???\n"
        "kfp:\n  output_file: null\n  metrics_uri: null\n",
        "conf/data/fashion_mnist.yaml": "data_dir: ???\nbatch_size: 128\n",
        "conf/model/cnn.yaml": "optimizer:\n  lr: 0.001\n",
        "conf/experiment/fashion_mnist_cnn.yaml": "# @package _global_\ntrainer:\n  max_epochs: 10\n",
    }
    for name, text in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    monkeypatch.syspath_prepend(str(root))
    return root


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run the installed console script as a subprocess."""
    executable = Path(sys.executable).with_name("hydra-yaml-lint")
    full_env = {**os.environ, **(env or {})}
    full_env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.run(
        [str(executable), *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess]:
    return run_cli


@pytest.fixture
def many_args() -> Callable[[int], str]:
    return many_args_component


def many_args_component(arguments: int) -> str:
    """A Hydra component (``command: [trainer]``) with ``arguments`` overrides and argparse flags."""
    lines = [
        "name: many",
        "inputs:",
        "- {name: lr, type: Float}",
        "implementation:",
        "  container:",
        "    image: trainer:1",
        "    command: [trainer]",
        "    args:",
    ]
    for index in range(arguments):
        if index % 4 == 0:
            lines += [f"    - --flag-{index}", "    - {inputValue: lr}"]
        else:
            lines.append(f"    - group{index % 7}.key_{index}={{{{$.inputs.parameters['lr']}}}}")
    return "\n".join(lines) + "\n"
