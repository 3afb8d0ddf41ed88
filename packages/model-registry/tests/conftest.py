"""The Vertex AI fake over real HTTP, credentials that reach it, trained model directories, and the CLIs run
as subprocesses (as a pipeline runs them).

The fake lives in packages/pipeline-sdk/tests/submit/submit_fakes/model_registry.py: one home for the Google
fakes (token endpoint, auth check, Vertex AI services), shared with pipeline-sdk's tests, so that every
package is tested against the same emulation. That directory goes on sys.path to import it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "packages" / "pipeline-sdk" / "tests" / "submit"))
from submit_fakes.credentials import new_key_pair, write_key_file  # noqa: E402
from submit_fakes.model_registry import FakeVertexModels  # noqa: E402

PROJECT, LOCATION = "demo-project", "us-central1"
SA_EMAIL = "pipeline@demo-project.iam.gserviceaccount.com"
BIN = Path(sys.executable).parent
COMPONENTS = REPO / "configs" / "components"

#: a trainer's metrics.json (packages/trainer/src/trainer/training.py `_metrics`), shortened lists
TRAINER_METRICS: dict[str, Any] = {
    "test_accuracy": 0.8115234375,
    "test_loss": 0.7315975427627563,
    "val_accuracy": 0.81201171875,
    "best_val_accuracy": 0.81201171875,
    "saved_epoch": 3,
    "model_selection": "best_val_accuracy",
    "epochs": 3,
    "epoch_times_s": [0.1603, 0.1438, 0.1433],
    "train_time_s": 0.4474,
    "val_accuracy_per_epoch": [0.740234375, 0.79931640625, 0.81201171875],
    "confusion_matrix": [[9, 1], [2, 8]],
    "class_names": ["T-shirt/top", "Trouser"],
    "preprocessing": {"pixel_scale": 255, "mean": 0.286, "std": 0.353},
    "precision": "32-true",
    "device": "cpu",
    "world_size": 1,
    "weights_sha256": "5f2b0c8a0e7d4f6e9b3c1a2d4e6f8091a2b3c4d5e6f708192a3b4c5d6e7f8091",
    "provenance": {
        "dataset": {"data_dir": "/gcs/b/ds", "dataset": "fashion_mnist", "format": "idx-dataset/v1"},
        "packages": {"hydra-vertex-trainer": "0.1.0", "torch": "2.14.1", "lightning": "2.6.6"},
    },
}


def make_trained(
    directory: Path, files: tuple[str, ...] = ("model.pt", "metrics.json"), **metrics: Any
) -> Path:
    """A trained model directory: dummy weights and a trainer's metrics.json with ``metrics`` replaced
    (``None`` removes a key)."""
    directory.mkdir(parents=True)
    if "model.pt" in files:
        (directory / "model.pt").write_bytes(b"\x80\x02weights of " + directory.name.encode())
    if "metrics.json" in files:
        data = {**TRAINER_METRICS, **metrics}
        (directory / "metrics.json").write_text(json.dumps({k: v for k, v in data.items() if v is not None}))
    (directory / "config.yaml").write_text("model:\n  optimizer:\n    lr: 0.002\n")
    return directory


@pytest.fixture
def trained(tmp_path: Path) -> Callable[..., Path]:
    """``trained(name, **metrics)``: a trained model directory under tmp_path."""
    return lambda name, **kw: make_trained(tmp_path / name, **kw)


@pytest.fixture(scope="session")
def rsa_key() -> tuple[bytes, bytes]:
    """The service account's key pair (private PKCS8 PEM, public PEM)."""
    return new_key_pair()


@pytest.fixture
def new_fake(rsa_key: tuple[bytes, bytes]) -> Iterator[Callable[[], FakeVertexModels]]:
    """``new_fake()``: another started fake (for runs side by side); all stop after the test."""
    started: list[FakeVertexModels] = []

    def start() -> FakeVertexModels:
        fake = FakeVertexModels(rsa_key[1]).__enter__()
        started.append(fake)
        return fake

    yield start
    for fake in started:
        fake.__exit__(None, None, None)


@pytest.fixture
def fake(new_fake: Callable[[], FakeVertexModels]) -> FakeVertexModels:
    return new_fake()


@dataclass
class Cli:
    """Runs ``register-model`` / ``deploy-model`` as a pipeline would: a subprocess with a hermetic
    environment and, with ``fake``, Application Default Credentials whose token endpoint is the fake."""

    tmp: Path
    private_pem: bytes

    def env(self, fake: FakeVertexModels | None) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GOOGLE_", "HYDRA_", "CLOUDSDK_", "STORAGE_EMULATOR_HOST"))
        }
        env.update(NO_GCE_CHECK="True", HOME=str(self.tmp / "home"), CLOUDSDK_CONFIG=str(self.tmp / "gcloud"))
        if fake is not None:
            key = write_key_file(
                self.tmp / f"sa-key-{fake.httpd.server_port}.json",
                self.private_pem,
                f"{fake.url}/token",
                email=SA_EMAIL,
            )
            env["GOOGLE_APPLICATION_CREDENTIALS"] = str(key)
            env["STORAGE_EMULATOR_HOST"] = fake.url  # Cloud Storage too: the fake's object routes
        return env

    def start(self, prog: str, *args: str, fake: FakeVertexModels | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(BIN / prog), *args],
            cwd=self.tmp,
            env=self.env(fake),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    @staticmethod
    def wait(process: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
        stdout, stderr = process.communicate(timeout=120)
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)

    def run(
        self, prog: str, *args: str, fake: FakeVertexModels | None = None
    ) -> subprocess.CompletedProcess[str]:
        return self.wait(self.start(prog, *args, fake=fake))


@pytest.fixture
def cli(tmp_path: Path, rsa_key: tuple[bytes, bytes]) -> Cli:
    return Cli(tmp_path, rsa_key[0])


@pytest.fixture
def gcp() -> Callable[[FakeVertexModels], list[str]]:
    """``gcp(fake)``: the overrides that point a step at the fake."""
    return lambda fake: [f"gcp.project={PROJECT}", f"gcp.location={LOCATION}", f"gcp.api_endpoint={fake.url}"]


@dataclass
class ComponentRun:
    """One run of a component's command line as a KFP backend resolves it (kfp.local's own code)."""

    result: subprocess.CompletedProcess[str]
    executor_input: dict[str, Any]

    def output(self, name: str) -> Path:
        return Path(self.executor_input["outputs"]["artifacts"][name]["artifacts"][0]["uri"])

    def executor_output(self) -> dict[str, Any]:
        return json.loads(Path(self.executor_input["outputs"]["outputFile"]).read_text())


def component_argv(
    component: str, inputs: dict[str, Any], parameters: dict[str, Any], task_root: Path
) -> tuple[list[str], dict[str, Any]]:
    """The container command line and executor input of configs/components/``component``.yaml, built with
    kfp.local: ``inputs`` maps an input artifact to a local directory, ``parameters`` the input values."""
    pytest.importorskip("kfp", reason="the executor input is built with kfp.local")
    from kfp import components, dsl
    from kfp.local import executor_input_utils, placeholder_utils

    factory = components.load_component_from_file(str(COMPONENTS / f"{component}.yaml"))
    spec = next(iter(factory.pipeline_spec.components.values()))
    container = factory.component_spec.implementation.container
    artifacts = {name: dsl.Model(name=name, uri=str(path), metadata={}) for name, path in inputs.items()}
    message = executor_input_utils.construct_executor_input(
        spec, artifacts, str(task_root), block_input_artifact=False
    )
    executor_input = executor_input_utils.executor_input_to_dict(message, spec)
    executor_input.setdefault("inputs", {}).setdefault("parameterValues", {}).update(parameters)
    argv = placeholder_utils.replace_placeholders(
        full_command=[*container.command, *container.args],
        executor_input_dict=executor_input,
        pipeline_resource_name="train-2026-12-06",
        task_resource_name=component.replace("_", "-"),
        pipeline_root=str(task_root.parent),
        unique_pipeline_id="1234",
    )
    return argv, executor_input


def gcs_path(tmp: Path, uri: str) -> Path:
    """Where this test's stand-in for the Cloud Storage FUSE mount shows ``gs://B/P`` (Vertex AI: /gcs/B/P)."""
    assert uri.startswith("gs://"), uri
    return tmp / "gcs" / uri[len("gs://") :]


@pytest.fixture
def gcs(tmp_path: Path) -> Callable[[str], Path]:
    """``gcs("gs://B/P")``: the local directory the component reads for that URI."""
    return lambda uri: gcs_path(tmp_path, uri)


@pytest.fixture
def run_component(tmp_path: Path, cli: Cli) -> Callable[..., ComponentRun]:
    """``run_component(component, inputs, parameters, fake=None)``: ``inputs`` maps an input artifact to its
    URI; a ``gs://`` one is read through :func:`gcs_path` (kfp.local would hand the URI itself as the path)."""

    def run(
        component: str,
        inputs: dict[str, Any],
        parameters: dict[str, Any],
        fake: FakeVertexModels | None = None,
    ) -> ComponentRun:
        argv, executor_input = component_argv(component, inputs, parameters, tmp_path / "root" / component)
        mounted = [re.sub(r"^([\w.]+\.path)=gs://", rf"\g<1>={tmp_path / 'gcs'}/", arg) for arg in argv]
        return ComponentRun(cli.run(mounted[0], *mounted[1:], fake=fake), executor_input)

    return run


def one_error_line(result: subprocess.CompletedProcess[str], prog: str) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith(f"{prog}: error: "), result.stderr
    return result.stderr.strip()


@pytest.fixture
def error_line() -> Callable[[subprocess.CompletedProcess[str], str], str]:
    """``error_line(result, prog)``: the one error line (asserts exit 1, one line, no traceback)."""
    return one_error_line


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*")) if root.exists() else []


@pytest.fixture
def listing() -> Callable[[Path], list[Path]]:
    return files_under


@pytest.fixture
def in_process(
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Callable[[str, list[str]], tuple[int, str, str]]]:
    """``in_process(prog, overrides)`` -> (exit code, stdout, stderr): the program's Hydra app run in this process on
    its config with ``overrides`` (no aiplatform import, no subprocess: for the many input rows). The config
    is composed once; each row's overrides are parsed by Hydra's own parser and applied as Hydra applies
    them (``OmegaConf.update`` on the struct config), which takes milliseconds instead of a compose."""
    import copy

    from hydra import compose, initialize_config_module
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    from model_registry import deploy_cli, register_cli

    apps = {"register-model": (register_cli, "register"), "deploy-model": (deploy_cli, "deploy")}
    parser = OverridesParser.create()
    with initialize_config_module("model_registry.conf", version_base="1.3"):
        bases = {prog: compose(config_name=config) for prog, (_, config) in apps.items()}

    def run(prog: str, overrides: list[str]) -> tuple[int, str, str]:
        cfg = copy.deepcopy(bases[prog])
        for override in parser.parse_overrides(overrides):
            OmegaConf.update(cfg, override.key_or_group, override.value(), merge=True)
        capsys.readouterr()
        try:
            apps[prog][0]._app(cfg)
        except SystemExit as exit:
            code = int(exit.code or 0)
        else:
            code = 0
        captured = capsys.readouterr()
        return code, captured.out, captured.err.strip()

    yield run


def write_registration(directory: Path, version: dict[str, Any], *, promoted: bool = True) -> Path:
    """A registration.json as register-model writes it, for ``version`` (a Model JSON of the fake)."""
    directory.mkdir(parents=True)
    record = {
        "skipped": False,
        "model": version["name"],
        "model_id": version["name"].rsplit("/", 1)[1],
        "version_id": version["versionId"],
        "version_name": f"{version['name']}@{version['versionId']}",
        "aliases": version["versionAliases"],
        "promoted": promoted,
        "promote_alias": "champion",
        "decision": "val_accuracy 0.8 <= 0.85 + margin 0.0: the new version does not beat version 1",
    }
    (directory / "registration.json").write_text(json.dumps(record))
    return directory


@pytest.fixture
def registration() -> Callable[..., Path]:
    """``registration(directory, version, promoted=True)``: see :func:`write_registration`."""
    return write_registration
