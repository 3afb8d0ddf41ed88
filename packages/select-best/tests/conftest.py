"""Trial directories from real trainer outputs, and the component run the way a KFP backend runs it.

``run_component`` builds the executor input with kfp.local's own ``construct_executor_input`` for the
component spec in ``configs/components/select_best.yaml`` (the trials as an artifact list, as
``dsl.Collected`` delivers them), resolves the container's args with kfp.local's ``placeholder_utils``, and
runs the real console script.

Vertex AI Experiments: ``fake_google`` is the Google fake over real HTTP (token endpoint, Vertex ML Metadata)
from packages/pipeline-sdk/tests/submit/submit_fakes, one home for the Google fakes shared by the packages;
that directory goes on sys.path to import it. ``gcloud_env`` is a hermetic environment for the console
script whose Application Default Credentials are a service-account key with its token endpoint at the fake.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[3]
COMPONENT = REPO / "configs" / "components" / "select_best.yaml"
SELECT_BEST = shutil.which("select-best", path=str(Path(sys.executable).parent)) or "select-best"
sys.path.insert(0, str(REPO / "packages" / "pipeline-sdk" / "tests" / "submit"))
from submit_fakes.credentials import new_key_pair, write_key_file  # noqa: E402
from submit_fakes.google import FakeGoogle  # noqa: E402

PROJECT, LOCATION = "demo-project", "us-central1"
SA_EMAIL = "pipeline@demo-project.iam.gserviceaccount.com"


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


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    if env is None:
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
        trials: list[Path],
        task_root: Path | None = None,
        parameters: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
    ) -> ComponentRun:
        root = task_root or tmp_path / "pipeline-root" / "select-best"
        argv, executor_input = component_argv(trials, root, parameters)
        assert argv[0] == "select-best"
        return ComponentRun(run_cli(*argv[1:], cwd=tmp_path, env=env), executor_input, root)

    return run


@pytest.fixture
def trial() -> Callable[..., Path]:
    return make_trial


@pytest.fixture
def cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, cwd=tmp_path, env=env)

    return run


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*")) if root.exists() else []


@pytest.fixture
def listing() -> Callable[[Path], list[Path]]:
    return files_under


@pytest.fixture(scope="session")
def rsa_key() -> tuple[bytes, bytes]:
    """The service account's key pair (private PKCS8 PEM, public PEM)."""
    return new_key_pair()


@pytest.fixture
def fake_google(rsa_key: tuple[bytes, bytes]) -> Iterator[FakeGoogle]:
    """The Google fake (token endpoint, Vertex ML Metadata, ...), started on a loopback port."""
    with FakeGoogle(rsa_key[1]) as server:
        yield server


@pytest.fixture
def gcloud_env(tmp_path: Path, rsa_key: tuple[bytes, bytes]) -> Callable[..., dict[str, str]]:
    """``gcloud_env(fake)``: a hermetic environment (no credentials, gcloud config or metadata server of the
    machine) whose Application Default Credentials reach ``fake``; ``gcloud_env(None)``: no credentials."""

    def env(fake: FakeGoogle | None) -> dict[str, str]:
        hermetic = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GOOGLE_", "HYDRA_", "CLOUDSDK_", "GCE_"))
        }
        hermetic.update(
            NO_GCE_CHECK="True", HOME=str(tmp_path / "home"), CLOUDSDK_CONFIG=str(tmp_path / "gcloud")
        )
        if fake is not None:
            key = write_key_file(tmp_path / "sa-key.json", rsa_key[0], f"{fake.url}/token", email=SA_EMAIL)
            hermetic["GOOGLE_APPLICATION_CREDENTIALS"] = str(key)
        return hermetic

    return env
