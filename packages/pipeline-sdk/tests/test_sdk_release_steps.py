"""The steps after training (`register`, `deploy`): where compile puts them, what it compiles into them."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from pipeline_sdk.compiler import compile_pipeline
from pipeline_sdk.config import load_config
from pipeline_sdk.errors import ConfigError
from pipeline_sdk.images.lock import ImageLock, LockedImage
from pipeline_sdk.sweep import load_with_sweep

SERVE = "hydra-vertex-serve"


def compiled(repo: Path, tmp_path: Path, *overrides: str, multirun: bool = False) -> Any:
    cfg, sweep = load_with_sweep(list(overrides), repo / "configs", multirun)
    return compile_pipeline(cfg, tmp_path / "p.yaml", sweep)


def tasks(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["root"]["dag"]["tasks"]


def constants(task: dict[str, Any]) -> dict[str, Any]:
    return {k: v["runtimeValue"]["constant"] for k, v in task["inputs"].get("parameters", {}).items()}


def test_off_by_default(repo: Path, tmp_path: Path) -> None:
    result = compiled(repo, tmp_path)
    assert set(tasks(result.spec)) == {"data-prepare", "train"}
    assert SERVE not in result.images


def test_register_follows_training_with_the_configuration_compiled_in(repo: Path, tmp_path: Path) -> None:
    result = compiled(
        repo,
        tmp_path,
        "register.enabled=true",
        "gcp.project=demo-project",
        "gcp.region=europe-west4",
        "gcp.api_endpoint=europe-west4-aiplatform.googleapis.com",
        "register.version_aliases=[candidate,nightly]",
        "register.promote.margin=0.002",
        "+register.labels.team=vision",
        "gcp.pipeline_root=gs://demo-bucket/runs",
    )
    register = tasks(result.spec)["register-model"]
    assert register["dependentTasks"] == ["train"]
    model = register["inputs"]["artifacts"]["model"]["taskOutputArtifact"]
    assert model == {"outputArtifactKey": "model", "producerTask": "train"}
    serving_image = f"localhost/hydra-components/{SERVE}:{version(SERVE)}"
    assert constants(register) == {
        "project": "demo-project",
        "location": "europe-west4",
        "api_endpoint": "europe-west4-aiplatform.googleapis.com",
        "staging_uri": "gs://demo-bucket/runs",
        "model_name": "hydra-fashion-mnist",
        "serving_image": serving_image,
        "version_aliases": '["candidate", "nightly"]',
        "promote_alias": "champion",
        "promote_metric": "val_accuracy",
        "promote_margin": 0.002,
        "labels": '{"team": "vision"}',
    }
    # the serving image is one of the pipeline's images: submit checks that the registry holds it
    assert result.images[SERVE] == serving_image
    assert "deploy-model" not in tasks(result.spec)


def test_the_serving_image_is_pinned_by_digest_when_locked(repo: Path, tmp_path: Path) -> None:
    lock_file, registry, digest = (
        tmp_path / "images.lock.json",
        "us-docker.pkg.dev/p/r",
        "sha256:" + "ef" * 32,
    )
    ImageLock({SERVE: LockedImage(f"{registry}/{SERVE}", version(SERVE), digest, pushed=True)}).save(
        lock_file
    )
    result = compiled(
        repo,
        tmp_path,
        "register.enabled=true",
        f"images.lock_file={lock_file}",
        f"images.registry={registry}",
    )
    assert constants(tasks(result.spec)["register-model"])["serving_image"] == f"{registry}/{SERVE}@{digest}"


def test_an_own_serving_image_is_used_as_written(repo: Path, tmp_path: Path) -> None:
    own = "europe-docker.pkg.dev/p/r/my-server:2"
    result = compiled(repo, tmp_path, "register.enabled=true", f"register.serving_image={own}")
    assert constants(tasks(result.spec)["register-model"])["serving_image"] == own
    assert SERVE not in result.images


def test_deploy_follows_registration(repo: Path, tmp_path: Path) -> None:
    result = compiled(
        repo,
        tmp_path,
        "register.enabled=true",
        "deploy.enabled=true",
        "deploy.accelerator_type=NVIDIA_L4",
        "deploy.accelerator_count=1",
        "deploy.machine_type=g2-standard-4",
        "deploy.max_replicas=3",
        "deploy.traffic_percentage=10",
    )
    deploy = tasks(result.spec)["deploy-model"]
    assert deploy["dependentTasks"] == ["register-model"]
    source = deploy["inputs"]["artifacts"]["registered_model"]["taskOutputArtifact"]
    assert source == {"outputArtifactKey": "registered_model", "producerTask": "register-model"}
    assert constants(deploy) == {
        "project": "",
        "location": "us-central1",
        "api_endpoint": "",
        "endpoint_name": "hydra-fashion-mnist",
        "machine_type": "g2-standard-4",
        "accelerator_type": "NVIDIA_L4",
        "accelerator_count": 1,
        "min_replicas": 1,
        "max_replicas": 3,
        "traffic_percentage": 10,
    }


def test_a_sweep_registers_the_selected_model_once(repo: Path, tmp_path: Path) -> None:
    result = compiled(
        repo, tmp_path, "register.enabled=true", "deploy.enabled=true", "params.seed=1,2", multirun=True
    )
    dag = tasks(result.spec)
    register = dag["register-model"]
    assert register["dependentTasks"] == ["select-best"]
    model = register["inputs"]["artifacts"]["model"]["taskOutputArtifact"]
    assert model == {"outputArtifactKey": "best_model", "producerTask": "select-best"}
    assert dag["deploy-model"]["dependentTasks"] == ["register-model"]
    # outside the trials' loop: one registration per run, not per trial
    loop = next(name for name in dag if name.startswith("for-loop-"))
    assert "register-model" not in result.spec["components"][f"comp-{loop}"]["dag"]["tasks"]


def test_a_step_of_the_same_name_is_refused(repo: Path, tmp_path: Path) -> None:
    cfg = load_config(
        ["register.enabled=true", "+steps.register-model={component: configs/components/data_prepare.yaml}"],
        repo / "configs",
    )
    with pytest.raises(
        ConfigError, match=r"register: a step named 'register-model' exists in steps\.register"
    ):
        compile_pipeline(cfg, tmp_path / "p.yaml")
    assert not (tmp_path / "p.yaml").exists()


def test_the_register_component_declares_every_input_compile_fills(repo: Path, tmp_path: Path) -> None:
    """The component YAMLs and release_steps agree: every constant is a declared input of the right type."""
    result = compiled(repo, tmp_path, "register.enabled=true", "deploy.enabled=true")
    for task in ("register-model", "deploy-model"):
        declared = result.spec["components"][f"comp-{task}"]["inputDefinitions"]["parameters"]
        for name, value in constants(tasks(result.spec)[task]).items():
            kind = declared[name]["parameterType"]  # a spec's numbers are JSON numbers: 1 reads as 1.0
            if kind == "STRING":
                assert isinstance(value, str), name
            else:
                assert isinstance(value, (int, float)) and kind in ("NUMBER_INTEGER", "NUMBER_DOUBLE"), name
                assert kind == "NUMBER_DOUBLE" or float(value).is_integer(), name
    json.loads(constants(tasks(result.spec)["register-model"])["version_aliases"])
