"""configs/pipeline.yaml through load_config: defaults, overrides, discovery and clear errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline_sdk.config import load_config, resolve_path
from pipeline_sdk.errors import ConfigError


def test_defaults_match_the_agreed_shape(repo: Path) -> None:
    cfg = load_config(config_dir=repo / "configs")
    assert cfg.pipeline.name == "hydra-fashion-mnist-training"
    assert dict(cfg.params) == {
        "dataset": "fashion_mnist",
        "epochs": 6,
        "learning_rate": 0.032,
        "batch_size": 256,
        "seed": 42,
        "experiment": "fashion_mnist_cnn",
        "source": "auto",
        "image_size": 28,
        "channels": 1,
    }
    assert cfg.steps.train.resources.accelerator_type == "NVIDIA_L4"
    assert set(cfg.gcp) >= {"project", "region", "pipeline_root", "service_account", "network", "labels"}
    assert cfg.base_dir == str(repo)
    assert resolve_path(cfg, cfg.steps.train.component) == repo / "configs/components/train.yaml"
    assert resolve_path(cfg, "/abs/x") == Path("/abs/x")


def test_overrides_are_typed_and_the_result_is_read_only(repo: Path) -> None:
    cfg = load_config(
        ["params.epochs=2", "steps.train.resources.cpu=4", "+gcp.labels.team=ml"], repo / "configs"
    )
    assert cfg.params.epochs == 2
    assert cfg.steps.train.resources.cpu == "4"
    assert dict(cfg.gcp.labels) == {"team": "ml"}
    with pytest.raises(Exception, match="read-only"):
        cfg.params.epochs = 3


def test_config_dir_is_found_from_a_subdirectory_and_from_the_environment(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo / "packages" / "pipeline-sdk")
    assert load_config().base_dir == str(repo)

    elsewhere = tmp_path / "proj" / "conf"
    elsewhere.mkdir(parents=True)
    shutil.copy(repo / "configs" / "pipeline.yaml", elsewhere / "pipeline.yaml")
    monkeypatch.setenv("PIPELINE_SDK_CONFIG_DIR", str(elsewhere))
    assert load_config().base_dir == str(tmp_path / "proj")


def test_missing_config_dir_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"no configs/pipeline.yaml in .* or its parents"):
        load_config()
    with pytest.raises(ConfigError, match=r"no pipeline\.yaml in config directory"):
        load_config(config_dir=tmp_path)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("params.nope=1", "override 'params.nope=1': unknown config key 'params.nope'"),
        ("nope=1", "unknown config key 'nope'"),
        ("steps.train.nope=1", "unknown config key 'steps.train.nope'"),
        (
            "steps.train.retries=x",
            "steps.train.retries: Value 'x' of type 'str' could not be converted to Integer",
        ),
        ("+params.bad-name=1", "params.bad-name: parameter names are letters, digits and underscores"),
        ("+params.nested={a: 1}", "params.nested: a pipeline parameter is a single value"),
        ("+steps.Eval.component=x.yaml", "steps.Eval: step names are lowercase letters, digits and dashes"),
        ("params.batch_size=1,2", "Ambiguous value for argument 'params.batch_size=1,2'"),
        ("pipeline.name=My_Pipeline", "pipeline.name: 'My_Pipeline' must be lowercase letters"),
        ("backend=argo", "backend: 'argo' is not one of vertex, kfp"),
        ("steps.train.retries=-1", "steps.train.retries: must be non-negative"),
        ("steps.train.resources.accelerator_count=-1", "must be non-negative, got -1"),
        (  # a plain step (no replicas, machine type or scheduling) is checked like a CustomJob step
            "steps.train.resources.accelerator_count=3",
            "override 'steps.train.resources.accelerator_count=3': steps.train.resources.accelerator_count: "
            "no Vertex AI machine holds 3 x NVIDIA_L4 (counts offered: 1, 2, 4, 8)",
        ),
        (
            "images.registry=${oc.env:PIPELINE_SDK_TEST_UNSET}",
            "Environment variable 'PIPELINE_SDK_TEST_UNSET'",
        ),
        ("params.epochs=[1", "no viable alternative at input '[1'"),
    ],
)
def test_bad_values_raise_config_error(repo: Path, override: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config([override], repo / "configs")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_gpu_count_is_checked_against_vertex_machines_only_for_vertex(repo: Path, tmp_path: Path) -> None:
    """A count the machine table has, an accelerator type it does not know (left to the type check) and the
    open-source KFP backend (any node may hold 3 GPUs) load; set in the file, the error names its position."""
    for overrides in (
        ["steps.train.resources.accelerator_count=2"],
        [
            "steps.train.resources.accelerator_type=TPU_V5_LITEPOD",
            "steps.train.resources.accelerator_count=3",
        ],
        ["backend=kfp", "steps.train.resources.accelerator_count=3"],
    ):
        load_config(overrides, repo / "configs")
    configs = shutil.copytree(repo / "configs", tmp_path / "configs")
    text = (configs / "pipeline.yaml").read_text()
    assert "      accelerator_count: 1 " in text
    (configs / "pipeline.yaml").write_text(
        text.replace("      accelerator_count: 1 ", "      accelerator_count: 3 ", 1)
    )
    with pytest.raises(
        ConfigError, match=r"pipeline\.yaml:\d+:\d+: steps\.train\.resources\.accelerator_count: no "
    ):
        load_config([], configs)


def test_params_are_data_so_interpolations_stay_text(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_SECRET", "hunter2")
    cfg = load_config(["params.experiment=${oc.env:SOME_SECRET}"], repo / "configs")
    assert cfg.params.experiment == "${oc.env:SOME_SECRET}"
    # ...while the rest of the config keeps Hydra's interpolation (e.g. a registry built from the region)
    cfg = load_config(["images.registry=${gcp.region}-docker.pkg.dev/p/r"], repo / "configs")
    assert cfg.images.registry == "us-central1-docker.pkg.dev/p/r"
