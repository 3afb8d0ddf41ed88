"""Vertex AI TensorBoard: a step with ``tensorboard`` compiles to a CustomJob whose payload carries the
instance and a base output directory (Vertex AI then sets AIP_TENSORBOARD_LOG_DIR); off by default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipeline_sdk.compiler import compile_pipeline
from pipeline_sdk.config import load_config
from pipeline_sdk.custom_job import worker_pools
from pipeline_sdk.errors import ConfigError

TB = "projects/p/locations/us-central1/tensorboards/123"
ON = (
    f"gcp.tensorboard={TB}",
    "gcp.service_account=run@p.iam.gserviceaccount.com",
    "gcp.pipeline_root=gs://bkt/runs",
)


def compile_with(repo: Path, tmp_path: Path, *overrides: str, name: str = "p.yaml") -> dict[str, Any]:
    return compile_pipeline(load_config(list(overrides), repo / "configs"), tmp_path / name).spec


def train_parameters(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["components"]["comp-train"]["inputDefinitions"]["parameters"]


def test_tensorboard_makes_train_a_custom_job_with_the_instance(repo: Path, tmp_path: Path) -> None:
    spec = compile_with(repo, tmp_path, *ON)
    params = train_parameters(spec)
    assert params["tensorboard"]["defaultValue"] == TB
    assert params["base_output_directory"]["defaultValue"] == (
        "gs://bkt/runs/tensorboard/{{$.pipeline_job_uuid}}/train-{{$.pipeline_task_uuid}}"
    )
    assert [p["replica_count"] for p in worker_pools(spec["components"]["comp-train"])] == [1]
    # the launcher's payload puts them where the CustomJobSpec has them
    label = spec["components"]["comp-train"]["executorLabel"]
    payload = next(
        a for a in spec["deploymentSpec"]["executors"][label]["container"]["args"] if "job_spec" in a
    )
    assert '"tensorboard": "{{$.inputs.parameters[\'tensorboard\']}}"' in payload
    assert (
        '"base_output_directory": {"output_uri_prefix": "{{$.inputs.parameters[\'base_output_directory\']}}"}'
        in payload
    )
    # the other steps stay plain tasks
    assert not worker_pools(spec["components"]["comp-data-prepare"])


def test_an_explicit_base_output_directory_is_used_as_it_is(repo: Path, tmp_path: Path) -> None:
    spec = compile_with(repo, tmp_path, *ON, "steps.train.base_output_directory=gs://other/tb")
    assert train_parameters(spec)["base_output_directory"]["defaultValue"] == "gs://other/tb"


def test_a_step_may_name_its_own_instance(repo: Path, tmp_path: Path) -> None:
    own = "projects/p/locations/us-central1/tensorboards/9"
    spec = compile_with(repo, tmp_path, *ON[1:], f"steps.train.tensorboard={own}")
    assert train_parameters(spec)["tensorboard"]["defaultValue"] == own


def test_off_by_default_the_spec_is_unchanged(repo: Path, tmp_path: Path) -> None:
    plain = compile_with(repo, tmp_path, name="plain.yaml")
    spelled = compile_with(
        repo, tmp_path, "gcp.tensorboard=null", "steps.train.base_output_directory=null", name="spelled.yaml"
    )
    assert plain == spelled
    assert not worker_pools(plain["components"]["comp-train"])
    assert "tensorboard" not in train_parameters(plain)


def test_a_base_output_directory_alone_is_a_custom_job_without_tensorboard(
    repo: Path, tmp_path: Path
) -> None:
    spec = compile_with(repo, tmp_path, "steps.train.base_output_directory=gs://bkt/out")
    params = train_parameters(spec)
    assert params["base_output_directory"]["defaultValue"] == "gs://bkt/out"
    assert params["tensorboard"]["defaultValue"] == ""


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (("gcp.tensorboard=my-tb", *ON[1:]), "gcp.tensorboard: 'my-tb' is not a TensorBoard instance"),
        (
            (*ON, "gcp.region=europe-west4"),
            "gcp.tensorboard: the TensorBoard instance is in us-central1 but the pipeline runs in europe-west4",
        ),
        (
            (*ON, "gcp.service_account=null"),
            "gcp.tensorboard: Vertex AI uploads TensorBoard logs only from a job",
        ),
        (
            (*ON, "gcp.pipeline_root=null"),
            "steps.train.base_output_directory: null derives it from gcp.pipeline_root, which is null",
        ),
        ((*ON, "steps.train.base_output_directory=/tmp/x"), "'/tmp/x' is not a gs://BUCKET/PATH prefix"),
        (
            (*ON[1:], "steps.train.tensorboard=projects/p/locations/asia-east1/tensorboards/1"),
            "steps.train.tensorboard: the TensorBoard instance is in asia-east1",
        ),
    ],
)
def test_bad_tensorboard_settings_are_one_line(
    repo: Path, tmp_path: Path, overrides: tuple[str, ...], message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        compile_with(repo, tmp_path, *overrides)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
    assert not (tmp_path / "p.yaml").exists()
