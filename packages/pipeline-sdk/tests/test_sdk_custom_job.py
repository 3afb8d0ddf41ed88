"""Scaling out: a step with several replicas, a machine type or scheduling settings compiles to GCPC's
CustomJob launcher whose worker pools carry the component's own image, command and Hydra args."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from kfp import components as kfp_components

from pipeline_sdk.accelerators import MACHINES, check_machine, default_machine
from pipeline_sdk.compiler import compile_pipeline
from pipeline_sdk.config import load_config
from pipeline_sdk.custom_job import LAUNCHER_MODULE, from_payload, worker_pools
from pipeline_sdk.errors import ConfigError
from pipeline_sdk.images.lock import ImageLock, LockedImage
from pipeline_sdk.params import parameter_uses

DIGEST = "sha256:" + "ef" * 32
REGISTRY = "us-docker.pkg.dev/p/r"
NASTY = "${oc.env:SOME_SECRET} it's a,b"


def compile_with(repo: Path, tmp_path: Path, *overrides: str, name: str = "p.yaml") -> dict[str, Any]:
    cfg = load_config(list(overrides), repo / "configs")
    return compile_pipeline(cfg, tmp_path / name).spec


def train_component(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["components"]["comp-train"]


def launcher(spec: dict[str, Any]) -> dict[str, Any]:
    label = train_component(spec)["executorLabel"]
    return spec["deploymentSpec"]["executors"][label]["container"]


@pytest.fixture
def locked(tmp_path: Path) -> str:
    lock_file = tmp_path / "images.lock.json"
    ImageLock(
        {
            "hydra-vertex-trainer": LockedImage(
                f"{REGISTRY}/hydra-vertex-trainer", version("hydra-vertex-trainer"), DIGEST, pushed=True
            )
        }
    ).save(lock_file)
    return str(lock_file)


def test_two_replicas_compile_to_the_custom_job_launcher(repo: Path, tmp_path: Path, locked: str) -> None:
    spec = compile_with(
        repo,
        tmp_path,
        "steps.train.resources.replica_count=2",
        f"images.lock_file={locked}",
        f"images.registry={REGISTRY}",
        f"params.experiment={json.dumps(NASTY)}",
    )
    container = launcher(spec)
    assert LAUNCHER_MODULE in container["command"]
    assert container["image"].startswith("gcr.io/ml-pipeline/google-cloud-pipeline-components:")
    assert "resources" not in container  # the launcher asks for no GPU; the replicas do
    pools = worker_pools(train_component(spec))
    assert [p["replica_count"] for p in pools] == [1, 1]  # pool 0: the primary; pool 1: R - 1 workers
    trainer_yaml = repo / "configs" / "components" / "train.yaml"
    own = kfp_components.load_component_from_file(str(trainer_yaml)).component_spec.implementation.container
    for pool in pools:
        assert pool["machine_spec"] == {
            "machine_type": "g2-standard-8",  # the smallest G2 with 1 L4, 8 vCPUs and 32 GB (cpu/memory)
            "accelerator_type": "NVIDIA_L4",
            "accelerator_count": 1,
        }
        container_spec = pool["container_spec"]
        assert container_spec["image_uri"] == f"{REGISTRY}/hydra-vertex-trainer@{DIGEST}"
        assert container_spec["command"] == ["trainer"]
        # every Hydra override as the component YAML has it, the executor input in its payload form
        assert container_spec["args"] == [arg.replace("{{$}}", "{{$.json_escape[1]}}") for arg in own.args]
        assert "kfp.executor_input='{{$.json_escape[1]}}'" in container_spec["args"]
    args = pools[0]["container_spec"]["args"]
    assert "experiment='{{$.inputs.parameters['experiment']}}'" in args
    assert "kfp.output_file={{$.outputs.output_file}}" in args
    # the quoted String parameter is escaped for Hydra, then for the JSON payload it is pasted into: its use
    # is found inside the worker pools
    wire = "\\\\$\\u007boc.env:SOME_SECRET\\u007d it\\\\'s a,b"
    assert spec["root"]["inputDefinitions"]["parameters"]["experiment"]["defaultValue"] == wire
    assert from_payload(wire) == "\\${oc.env:SOME_SECRET} it\\'s a,b"
    assert [(u.task, u.quoted, u.in_payload) for u in parameter_uses(spec)["experiment"]] == [
        ("train", True, True)
    ]
    # the job runs as the pipeline's service account, on its network, with its CMEK key
    parameters = train_component(spec)["inputDefinitions"]["parameters"]
    assert parameters["service_account"]["defaultValue"] == "{{$.pipeline_service_account}}"
    assert parameters["network"]["defaultValue"] == "{{$.pipeline_network}}"
    assert parameters["encryption_spec_key_name"]["defaultValue"] == "{{$.pipeline_encryption_key_name}}"
    assert parameters["strategy"]["defaultValue"] == "STANDARD"
    # the wrapped component keeps the trainer's inputs and outputs
    outputs = train_component(spec)["outputDefinitions"]["artifacts"]
    assert set(outputs) == {"model", "metrics", "classification_metrics"}
    assert spec["root"]["dag"]["tasks"]["train"]["inputs"]["artifacts"]["dataset"]


def test_replicas_machine_type_and_spot_in_the_worker_pools(repo: Path, tmp_path: Path) -> None:
    spec = compile_with(
        repo,
        tmp_path,
        "steps.train.resources.replica_count=4",
        "steps.train.resources.machine_type=a2-highgpu-2g",
        "steps.train.resources.accelerator_type=NVIDIA_TESLA_A100",
        "steps.train.resources.accelerator_count=2",
        "steps.train.scheduling.strategy=SPOT",
        "steps.train.scheduling.restart_job_on_worker_restart=true",
        "steps.train.scheduling.timeout=86400s",
    )
    pools = worker_pools(train_component(spec))
    assert [p["replica_count"] for p in pools] == [1, 3]
    assert {p["machine_spec"]["machine_type"] for p in pools} == {"a2-highgpu-2g"}
    assert {p["machine_spec"]["accelerator_count"] for p in pools} == {2}
    parameters = train_component(spec)["inputDefinitions"]["parameters"]
    assert parameters["strategy"]["defaultValue"] == "SPOT"
    assert parameters["restart_job_on_worker_restart"]["defaultValue"] is True
    assert parameters["timeout"]["defaultValue"] == "86400s"


def test_one_replica_with_a_machine_type_is_a_custom_job_without_workers(repo: Path, tmp_path: Path) -> None:
    spec = compile_with(repo, tmp_path, "steps.train.resources.machine_type=g2-standard-16")
    pools = worker_pools(train_component(spec))
    assert [p["replica_count"] for p in pools] == [1]
    assert pools[0]["machine_spec"]["machine_type"] == "g2-standard-16"


def test_a_cpu_only_custom_job_gets_a_cpu_machine(repo: Path, tmp_path: Path) -> None:
    spec = compile_with(
        repo,
        tmp_path,
        "steps.train.resources.accelerator_type=null",
        "steps.train.resources.accelerator_count=0",
        "steps.train.scheduling.strategy=SPOT",
    )
    (pool,) = worker_pools(train_component(spec))
    assert pool["machine_spec"] == {"machine_type": "e2-standard-8"}


def test_one_replica_without_scheduling_compiles_as_before(repo: Path, tmp_path: Path) -> None:
    """The defaults, and the defaults spelled out, give the same spec: a plain task with its limits."""
    plain = compile_with(repo, tmp_path, name="plain.yaml")
    spelled = compile_with(
        repo,
        tmp_path,
        "steps.train.resources.replica_count=1",
        "steps.train.resources.machine_type=null",
        "steps.train.scheduling.strategy=STANDARD",
        "steps.train.scheduling.restart_job_on_worker_restart=false",
        "steps.train.scheduling.timeout=null",
        name="spelled.yaml",
    )
    assert plain == spelled
    assert not worker_pools(train_component(plain))
    container = launcher(plain)
    assert container["command"] == ["trainer"]
    assert container["resources"]["accelerator"]["resourceType"] == "NVIDIA_L4"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["steps.train.resources.replica_count=0"], "steps.train.resources.replica_count: 0 is not a number"),
        (
            ["steps.train.resources.replica_count=-2"],
            "steps.train.resources.replica_count: -2 is not a number",
        ),
        (
            ["steps.train.resources.machine_type=n2-standard-8"],
            "steps.train.resources.machine_type: 'n2-standard-8' cannot hold 1 x NVIDIA_L4 (it takes no GPU); "
            "machines that do: g2-standard-4",
        ),
        (
            ["steps.train.resources.machine_type=g2-standard-8", "steps.train.resources.accelerator_count=2"],
            "'g2-standard-8' cannot hold 2 x NVIDIA_L4 (it comes with 1 x NVIDIA_L4); machines that do: "
            "g2-standard-24",
        ),
        (
            ["steps.train.resources.replica_count=2", "steps.train.resources.accelerator_count=3"],
            "steps.train.resources.accelerator_count: no Vertex AI machine holds 3 x NVIDIA_L4 "
            "(counts offered: 1, 2, 4, 8)",
        ),
        (
            ["steps.train.resources.machine_type=g2-standrd-8"],
            "'g2-standrd-8' is not a Vertex AI training machine type (did you mean g2-standard-8",
        ),
        (
            [
                "steps.train.resources.machine_type=g2-standard-8",
                "steps.train.resources.accelerator_type=null",
            ],
            "'g2-standard-8' comes with 1 x NVIDIA_L4; set steps.train.resources.accelerator_type=NVIDIA_L4",
        ),
        (["steps.train.scheduling.strategy=spot"], "steps.train.scheduling.strategy: 'spot' is not one of"),
        (["steps.train.scheduling.timeout=7d"], "steps.train.scheduling.timeout: '7d' is not a duration"),
    ],
)
def test_bad_scaling_settings_name_the_key(
    repo: Path, tmp_path: Path, overrides: list[str], message: str
) -> None:
    # a value is refused when the config loads; a machine that cannot hold it, when the step is compiled
    with pytest.raises(ConfigError) as raised:
        compile_pipeline(load_config(overrides, repo / "configs"), tmp_path / "p.yaml")
    assert message in str(raised.value)
    assert str(raised.value).startswith("override 'steps.train.")  # located at the override that set it
    assert "\n" not in str(raised.value)
    assert not (tmp_path / "p.yaml").exists()


@pytest.mark.parametrize(
    ("machine", "accelerator", "count"),
    [
        ("a2-highgpu-1g", "NVIDIA_TESLA_A100", 1),
        ("a2-highgpu-8g", "NVIDIA_TESLA_A100", 8),
        ("a2-ultragpu-4g", "NVIDIA_A100_80GB", 4),
        ("a3-highgpu-8g", "NVIDIA_H100_80GB", 8),
        ("g2-standard-48", "NVIDIA_L4", 4),
        ("g2-standard-96", "NVIDIA_L4", 8),
        ("n1-standard-8", "NVIDIA_TESLA_T4", 4),
        ("n1-standard-16", "NVIDIA_TESLA_V100", 2),
        ("n1-highmem-96", "NVIDIA_TESLA_V100", 8),
        ("e2-standard-4", None, 0),
        ("n2-highmem-16", None, 0),
    ],
)
def test_known_vertex_pairings_are_accepted(machine: str, accelerator: str | None, count: int) -> None:
    assert check_machine(machine, accelerator, count, "steps.train.resources").name == machine


@pytest.mark.parametrize(
    ("machine", "accelerator", "count"),
    [
        ("a2-highgpu-2g", "NVIDIA_TESLA_A100", 1),  # an A2 machine's GPU count is fixed
        ("a2-highgpu-1g", "NVIDIA_A100_80GB", 1),  # A2 High holds 40 GB A100s, A2 Ultra 80 GB
        ("a3-highgpu-8g", "NVIDIA_L4", 8),
        ("n1-standard-16", "NVIDIA_TESLA_V100", 1),  # one V100 allows at most 12 vCPUs
        ("n1-standard-8", "NVIDIA_L4", 1),  # L4 only on G2
        ("n1-standard-8", "NVIDIA_TESLA_T4", 3),
        ("e2-standard-8", "NVIDIA_TESLA_T4", 1),
    ],
)
def test_impossible_pairings_are_refused(machine: str, accelerator: str, count: int) -> None:
    with pytest.raises(
        ConfigError, match=rf"^steps\.train\.resources\.machine_type: '{machine}' cannot hold"
    ):
        check_machine(machine, accelerator, count, "steps.train.resources")


def test_default_machines_fit_the_limits() -> None:
    key = "steps.train.resources"
    assert default_machine("NVIDIA_L4", 1, "8", "32G", key) == "g2-standard-8"
    assert default_machine("NVIDIA_L4", 1, None, None, key) == "g2-standard-4"
    assert default_machine("NVIDIA_L4", 2, "8", "32G", key) == "g2-standard-24"
    assert default_machine("NVIDIA_TESLA_T4", 1, "8", "30Gi", key) == "n1-standard-8"
    assert default_machine("NVIDIA_H100_80GB", 8, None, None, key) == "a3-highgpu-8g"
    assert default_machine(None, 0, "500m", "1G", key) == "e2-standard-4"
    with pytest.raises(ConfigError, match="no Vertex AI machine holds 1 x NVIDIA_L4 with cpu 200"):
        default_machine("NVIDIA_L4", 1, "200", None, key)


def test_every_accelerator_in_the_machine_table_is_a_vertex_accelerator() -> None:
    from pipeline_sdk.accelerators import vertex_accelerator_types

    known = set(vertex_accelerator_types())
    assert {m.accelerator for m in MACHINES.values() if m.accelerator} <= known
