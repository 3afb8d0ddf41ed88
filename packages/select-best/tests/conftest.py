"""Trial directories from real trainer outputs, and the component run the way a KFP backend runs it.

``run_component`` builds the executor input with kfp.local's own ``construct_executor_input`` for the
component spec in ``configs/components/select_best.yaml`` (the trials as an artifact list, as
``dsl.Collected`` delivers them), resolves the container's args with kfp.local's ``placeholder_utils``, and
runs the real console script.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[3]
COMPONENT = REPO / "configs" / "components" / "select_best.yaml"
SELECT_BEST = shutil.which("select-best", path=str(Path(sys.executable).parent)) or "select-best"


def make_trial(
    directory: Path,
    source: str = "lr0.002",
    *,
    metrics: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
    files: tuple[str, ...] = ("model.pt", "config.yaml", "metrics.json"),
) -> Path:
    """A trial model directory: a real trainer run's files, with ``metrics``/``config`` values replaced.

    ``source`` names the run in ``data/``: ``lr0.002`` or ``lr0.008`` (its learning rate).
    """
    from omegaconf import OmegaConf

    source = f"trainer-{source}"

    directory.mkdir(parents=True)
    if "model.pt" in files:
        (directory / "model.pt").write_bytes(b"state dict of " + directory.name.encode())
    if "config.yaml" in files:
        cfg = OmegaConf.load(DATA / source / "config.yaml")
        for key, value in (config or {}).items():
            OmegaConf.update(cfg, key, value)
        (directory / "config.yaml").write_text(OmegaConf.to_yaml(cfg))
    if "metrics.json" in files:
        data = json.loads((DATA / source / "metrics.json").read_text())
        data.update(metrics or {})
        (directory / "metrics.json").write_text(json.dumps(data))
    (directory / "checkpoints").mkdir()
    (directory / "checkpoints" / "last.ckpt").write_bytes(b"checkpoint")
    return directory


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.run(
        [SELECT_BEST, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@dataclass
class ComponentRun:
    """One run of the component: the process, and the executor input it was given."""

    result: subprocess.CompletedProcess[str]
    executor_input: dict[str, Any]
    task_root: Path

    def output(self, name: str) -> Path:
        return Path(self.executor_input["outputs"]["artifacts"][name]["artifacts"][0]["uri"])

    @property
    def output_file(self) -> Path:
        return Path(self.executor_input["outputs"]["outputFile"])

    def executor_output(self) -> dict[str, Any]:
        return json.loads(self.output_file.read_text())


SELECTION_PARAMETERS = ("selection_metric", "selection_goal", "trial_parameters")


def component_argv(
    trials: list[Path], task_root: Path, parameters: dict[str, Any] | None = None
) -> tuple[list[str], dict[str, Any]]:
    """The container command line and the executor input dict, as kfp.local makes them.

    ``parameters``: the selection parameters the pipeline compiler fills (``inputs.parameterValues``),
    replacing any the component spec gave; None keeps what kfp.local built.
    """
    pytest.importorskip("kfp", reason="the executor input is built with kfp.local")
    from kfp import components, dsl
    from kfp.local import executor_input_utils, placeholder_utils

    factory = components.load_component_from_file(str(COMPONENT))
    spec = factory.pipeline_spec.components["comp-select-best"]
    container = factory.component_spec.implementation.container
    artifacts = [dsl.Model(name="model", uri=str(t), metadata={}) for t in trials]
    message = executor_input_utils.construct_executor_input(
        spec, {"trials": artifacts} if artifacts else {}, str(task_root), block_input_artifact=False
    )
    executor_input = executor_input_utils.executor_input_to_dict(message, spec)
    if parameters is not None:
        values = executor_input.setdefault("inputs", {}).setdefault("parameterValues", {})
        for name in SELECTION_PARAMETERS:
            values.pop(name, None)
        values.update(parameters)
    argv = placeholder_utils.replace_placeholders(
        full_command=[*container.command, *container.args],
        executor_input_dict=executor_input,
        pipeline_resource_name="sweep-2026-11-30",
        task_resource_name="select-best",
        pipeline_root=str(task_root.parent),
        unique_pipeline_id="1234",
    )
    return argv, executor_input


@pytest.fixture
def run_component(tmp_path: Path) -> Callable[..., ComponentRun]:
    def run(
        trials: list[Path], task_root: Path | None = None, parameters: dict[str, Any] | None = None
    ) -> ComponentRun:
        root = task_root or tmp_path / "pipeline-root" / "select-best"
        argv, executor_input = component_argv(trials, root, parameters)
        assert argv[0] == "select-best"
        return ComponentRun(run_cli(*argv[1:], cwd=tmp_path), executor_input, root)

    return run


@pytest.fixture
def trial() -> Callable[..., Path]:
    return make_trial


@pytest.fixture
def cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, cwd=tmp_path)

    return run


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*")) if root.exists() else []


@pytest.fixture
def listing() -> Callable[[Path], list[Path]]:
    return files_under
