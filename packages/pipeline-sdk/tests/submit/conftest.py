"""Fixtures for submit and publish: the loopback fakes (``submit_fakes/``: the Google APIs and the Kubeflow
Pipelines API, each a real HTTP server on 127.0.0.1), credentials, a compiled test pipeline and the CLI."""

# No `from __future__ import annotations`: kfp reads the test pipeline's annotations as types.
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# the fakes live beside this file (tests import no modules of each other: fixtures hand them out)
sys.path.insert(0, str(Path(__file__).parent))
from submit_fakes.credentials import SA_EMAIL, new_key_pair, write_key_file
from submit_fakes.google import FakeGoogle
from submit_fakes.kfp import FakeKfp

REPO_ROOT = Path(__file__).resolve().parents[4]
REGION = "us-central1"


_PREPARE = """
name: data-prepare
inputs:
- {name: dataset_name, type: String, default: fashion_mnist}
outputs:
- {name: dataset, type: Dataset}
implementation:
  container:
    image: IMAGE
    command: [data-prepare]
    args: ["dataset={{$.inputs.parameters['dataset_name']}}", "paths.output_dir={{$.outputs.artifacts['dataset'].path}}"]
"""
_TRAIN = """
name: train
inputs:
- {name: dataset, type: Dataset}
- {name: epochs, type: Integer, default: '5'}
- {name: learning_rate, type: Float, default: '0.002'}
outputs:
- {name: model, type: Model}
implementation:
  container:
    image: IMAGE
    command: [trainer]
    args: ["data.data_dir={{$.inputs.artifacts['dataset'].path}}", "trainer.max_epochs={{$.inputs.parameters['epochs']}}",
           "model.optimizer.lr={{$.inputs.parameters['learning_rate']}}", "paths.output_dir={{$.outputs.artifacts['model'].path}}"]
"""


@dataclass
class CompiledForTest:
    """The fields of pipeline_sdk.compiler.CompiledPipeline that submit reads."""

    path: Path
    spec: dict[str, Any]
    parameter_values: dict[str, Any]
    images: dict[str, str]


def compile_with_kfp(output: Path, registry: str, accelerator: str = "NVIDIA_L4") -> CompiledForTest:
    """Compile a two-step Hydra-style pipeline with kfp directly (independent of compile_pipeline)."""
    import yaml
    from kfp import compiler, components, dsl

    images = {
        "hydra-vertex-data-prepare": f"{registry}/hydra-vertex-data-prepare:0.1.0",
        "hydra-vertex-trainer": f"{registry}/hydra-vertex-trainer:0.1.0",
    }
    prepare = components.load_component_from_text(
        _PREPARE.replace("IMAGE", images["hydra-vertex-data-prepare"])
    )
    train = components.load_component_from_text(_TRAIN.replace("IMAGE", images["hydra-vertex-trainer"]))

    @dsl.pipeline(name="hydra-fashion-mnist-training")
    def pipeline(dataset: str = "fashion_mnist", epochs: int = 5, learning_rate: float = 0.002):
        prepared = prepare(dataset_name=dataset)
        task = train(dataset=prepared.outputs["dataset"], epochs=epochs, learning_rate=learning_rate)
        task.set_accelerator_type(accelerator).set_accelerator_limit(1).set_cpu_limit("8").set_memory_limit(
            "32G"
        )

    compiler.Compiler().compile(pipeline, str(output))
    spec = yaml.safe_load(output.read_text())
    return CompiledForTest(
        output, spec, {"dataset": "fashion_mnist", "epochs": 2, "learning_rate": 0.01}, images
    )


def tasks_cached_by_the_service(spec: dict[str, Any]) -> dict[str, bool]:
    """``{"<dag>/<task>": cached}`` for a pipeline spec as Vertex AI and the KFP backend run it: each task by
    its own ``cachingOptions.enableCache`` (absent = false, proto3), with no run-level switch left once the
    request is built (KFP backend driver/cache.go; docs/vertex-behaviour.md, caching)."""
    dags = {"root": spec["root"].get("dag", {})}
    dags.update({name: c["dag"] for name, c in spec.get("components", {}).items() if "dag" in c})
    return {
        f"{dag_name}/{task_name}": bool(task.get("cachingOptions", {}).get("enableCache", False))
        for dag_name, dag in dags.items()
        for task_name, task in dag.get("tasks", {}).items()
        if "componentRef" in task and "parameterIterator" not in task and "artifactIterator" not in task
    }


@pytest.fixture
def cached_tasks():
    """``cached_tasks(spec)``: which tasks the service would serve from its cache (see above)."""
    return tasks_cached_by_the_service


@pytest.fixture
def compile_test_pipeline():
    """``compile_test_pipeline(output, registry, accelerator="NVIDIA_L4")`` -> CompiledForTest."""
    return compile_with_kfp


@pytest.fixture(scope="session")
def compiled_test_pipeline(tmp_path_factory: pytest.TempPathFactory) -> CompiledForTest:
    """The test pipeline compiled once per session (train on NVIDIA_L4, images in a pkg.dev registry)."""
    output = tmp_path_factory.mktemp("compiled") / "pipeline.yaml"
    return compile_with_kfp(output, registry="europe-docker.pkg.dev/demo-project/ml")


@dataclass
class ServiceAccountKey:
    path: Path
    public_pem: bytes
    email: str = SA_EMAIL
    extra: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="session")
def rsa_key() -> tuple[bytes, bytes]:
    """The service account's key pair (private PKCS8 PEM, public PEM)."""
    return new_key_pair()


@pytest.fixture(scope="session")
def new_fake_google(rsa_key: tuple[bytes, bytes]) -> Any:
    """``new_fake_google()`` -> an unstarted FakeGoogle (use it as a context manager)."""
    return lambda: FakeGoogle(rsa_key[1])


@pytest.fixture
def fake_google(rsa_key: tuple[bytes, bytes]) -> Iterator[FakeGoogle]:
    with FakeGoogle(rsa_key[1]) as server:
        yield server


@pytest.fixture
def adc(
    tmp_path: Path, fake_google: FakeGoogle, rsa_key: tuple[bytes, bytes], monkeypatch: pytest.MonkeyPatch
) -> ServiceAccountKey:
    """Application Default Credentials: a real service-account key file whose token_uri is the fake."""
    key_file = write_key_file(tmp_path / "sa-key.json", rsa_key[0], f"{fake_google.url}/token")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", fake_google.url)
    return ServiceAccountKey(key_file, rsa_key[1])


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real credentials, no metadata-server probe, no gcloud config from the machine running tests."""
    for var in (
        "GOOGLE_APPLICATION_CREDENTIALS",
        "GOOGLE_CLOUD_PROJECT",
        "STORAGE_EMULATOR_HOST",
        "KF_PIPELINES_ENDPOINT",
        "HYDRA_FULL_ERROR",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    monkeypatch.setenv("PIPELINE_SDK_CONFIG_DIR", str(REPO_ROOT / "configs"))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud-config"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def fake_kfp() -> Iterator[FakeKfp]:
    with FakeKfp() as server:
        yield server


@dataclass
class Completed:
    code: int
    stdout: str
    stderr: str


def hermetic_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The environment for a CLI subprocess: no credentials or gcloud config from this machine."""
    import os

    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GOOGLE_", "STORAGE_EMULATOR", "KF_PIPELINES", "HYDRA_", "PIPELINE_SDK_"))
    }
    env.update(
        NO_GCE_CHECK="True",
        HOME=str(tmp / "home"),
        CLOUDSDK_CONFIG=str(tmp / "gcloud"),
        PIPELINE_SDK_CONFIG_DIR=str(REPO_ROOT / "configs"),
        **extra,
    )
    return env


@dataclass
class CliHarness:
    """Starts the installed ``pipeline-sdk`` console script; ``start`` returns at once so several runs
    (each importing aiplatform, ~3 s of CPU) overlap; ``result`` waits for one."""

    tmp: Path
    private_pem: bytes

    def start(self, *args: str, fake: FakeGoogle | None = None, with_adc: bool = False) -> Any:
        import signal
        import subprocess
        import sys
        import tempfile

        tmp = Path(tempfile.mkdtemp(dir=self.tmp))
        extra = {}
        if fake is not None:
            extra["STORAGE_EMULATOR_HOST"] = fake.url
            if with_adc:
                key = write_key_file(tmp / "sa-key.json", self.private_pem, f"{fake.url}/token")
                extra["GOOGLE_APPLICATION_CREDENTIALS"] = str(key)
        script = Path(sys.executable).with_name("pipeline-sdk")
        return subprocess.Popen(
            [str(script), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=hermetic_env(tmp, **extra),
            cwd=REPO_ROOT,
            # Ctrl-C as a terminal sends it: a test runner started in the background may ignore SIGINT,
            # and its children would inherit that.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )

    @staticmethod
    def result(process: Any, timeout: float = 120) -> Completed:
        stdout, stderr = process.communicate(timeout=timeout)
        return Completed(process.returncode, stdout, stderr)


@pytest.fixture(scope="session")
def cli(tmp_path_factory: pytest.TempPathFactory, rsa_key: tuple[bytes, bytes]) -> CliHarness:
    return CliHarness(tmp_path_factory.mktemp("cli"), rsa_key[0])
