"""`pipeline-sdk compile`: the KFP v2 spec it writes, loaded back with kfp, and its refusals."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import yaml
from google.protobuf import json_format
from kfp import components as kfp_components

from pipeline_sdk.accelerators import vertex_accelerator_types
from pipeline_sdk.compiler import compile_pipeline
from pipeline_sdk.config import load_config
from pipeline_sdk.images.lock import ImageLock, LockedImage
from pipeline_sdk.params import parameter_uses

PLACEHOLDER = re.compile(r"\{\{\$\.(inputs|outputs)\.(parameters|artifacts)\[(.)")


def load_back(path: Path) -> dict[str, Any]:
    """The compiled file loaded with kfp, as a pipeline spec dict."""
    loaded = kfp_components.load_component_from_file(str(path))
    return json_format.MessageToDict(loaded.pipeline_spec)


def executor(spec: dict[str, Any], task: str) -> dict[str, Any]:
    label = spec["components"][f"comp-{task}"]["executorLabel"]
    return spec["deploymentSpec"]["executors"][label]["container"]


def test_compiled_default_pipeline_loads_back_with_kfp(sdk: Callable, tmp_path: Path) -> None:
    out = tmp_path / "pipeline.yaml"
    result = sdk("compile", "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert f"-> {out}" in result.stdout
    spec = load_back(out)

    assert spec["pipelineInfo"]["name"] == "hydra-fashion-mnist-training"
    train = executor(spec, "train")
    assert train["resources"]["accelerator"]["resourceType"] == "NVIDIA_L4"
    assert train["resources"]["accelerator"]["resourceCount"] == "1"
    assert train["resources"]["resourceCpuLimit"] == "8"
    assert train["resources"]["resourceMemoryLimit"] == "32G"
    assert "resources" not in executor(spec, "data-prepare")

    for task, package, script in (
        ("data-prepare", "hydra-vertex-data-prepare", "data-prepare"),
        ("train", "hydra-vertex-trainer", "trainer"),
    ):
        container = executor(spec, task)
        assert container["image"] == f"localhost/hydra-components/{package}:{version(package)}"
        assert container["command"] == [script]
        quotes = {m.group(3) for arg in container["args"] for m in PLACEHOLDER.finditer(arg)}
        assert quotes == {"'"}, container["args"]
        assert all(isinstance(arg, str) for arg in container["args"])  # plain strings, no {Concat: ...}
    assert "experiment='{{$.inputs.parameters['experiment']}}'" in train["args"]
    assert "kfp.output_file={{$.outputs.output_file}}" in train["args"]

    defaults = {k: v["defaultValue"] for k, v in spec["root"]["inputDefinitions"]["parameters"].items()}
    assert defaults == {
        "dataset": "fashion_mnist",
        "source": "auto",
        "image_size": 28.0,
        "channels": 1.0,
        "epochs": 6.0,
        "learning_rate": 0.032,
        "batch_size": 256.0,
        "seed": 42.0,
        "experiment": "fashion_mnist_cnn",
    }
    tasks = spec["root"]["dag"]["tasks"]
    assert tasks["train"]["dependentTasks"] == ["data-prepare"]
    assert tasks["train"]["retryPolicy"]["maxRetryCount"] == 1
    assert tasks["data-prepare"]["retryPolicy"]["maxRetryCount"] == 2
    assert tasks["train"]["cachingOptions"]["enableCache"] is True


def test_json_output_by_extension_and_overrides(sdk: Callable, tmp_path: Path) -> None:
    out = tmp_path / "p.json"
    result = sdk(
        "compile",
        "-o",
        str(out),
        "steps.train.resources.accelerator_type=NVIDIA_H100_80GB",
        "steps.train.resources.accelerator_count=2",
        "caching=false",
        "params.epochs=3",
    )
    assert result.returncode == 0, result.stderr
    spec = json.loads(out.read_text())
    accelerator = executor(spec, "train")["resources"]["accelerator"]
    assert (accelerator["resourceType"], accelerator["resourceCount"]) == ("NVIDIA_H100_80GB", "2")
    assert spec["root"]["inputDefinitions"]["parameters"]["epochs"]["defaultValue"] == 3
    assert spec["root"]["dag"]["tasks"]["train"]["cachingOptions"] == {}


def test_cpu_only_train_step_has_no_accelerator(repo: Path, tmp_path: Path) -> None:
    cfg = load_config(
        ["steps.train.resources.accelerator_type=null", "steps.train.resources.memory=null"], repo / "configs"
    )
    compiled = compile_pipeline(cfg, tmp_path / "p.yaml")
    resources = executor(compiled.spec, "train")["resources"]
    assert "accelerator" not in resources
    assert "resourceMemoryLimit" not in resources
    assert resources["resourceCpuLimit"] == "8"


def test_string_parameters_are_compiled_escaped_for_hydra(repo: Path, tmp_path: Path) -> None:
    raw = "${oc.env:SOME_SECRET} it's a,b"
    cfg = load_config([f"params.experiment={json.dumps(raw)}"], repo / "configs")
    compiled = compile_pipeline(cfg, tmp_path / "p.yaml")
    assert compiled.raw_parameter_values["experiment"] == raw
    wire = "\\${oc.env:SOME_SECRET} it\\'s a,b"
    assert compiled.parameter_values["experiment"] == wire
    assert compiled.spec["root"]["inputDefinitions"]["parameters"]["experiment"]["defaultValue"] == wire

    uses = parameter_uses(compiled.spec)
    assert [(u.task, u.quoted) for u in uses["experiment"]] == [("train", True)]
    assert [(u.task, u.key, u.quoted) for u in uses["dataset"]] == [("data-prepare", "dataset", False)]


def test_your_own_images_compile_as_parameters_of_the_data_prepare_step(repo: Path, tmp_path: Path) -> None:
    cfg = load_config(
        [
            "params.dataset=image_folder",
            "params.source=gs://photos-bucket/shop/labels.csv",
            "params.image_size=64",
            "params.channels=3",
        ],
        repo / "configs",
    )
    compiled = compile_pipeline(cfg, tmp_path / "p.yaml")
    parameters = compiled.spec["root"]["inputDefinitions"]["parameters"]
    assert parameters["source"]["defaultValue"] == "gs://photos-bucket/shop/labels.csv"
    assert (parameters["image_size"]["defaultValue"], parameters["channels"]["defaultValue"]) == (64, 3)
    args = executor(compiled.spec, "data-prepare")["args"]
    assert "source='{{$.inputs.parameters['source']}}'" in args  # quoted: a path stays data for Hydra
    assert "dataset.image_size={{$.inputs.parameters['image_size']}}" in args
    assert "dataset.channels={{$.inputs.parameters['channels']}}" in args
    uses = parameter_uses(compiled.spec)
    assert [(u.task, u.key, u.quoted) for u in uses["source"]] == [("data-prepare", "source", True)]


def test_image_lock_pins_by_digest_only_for_the_installed_version(repo: Path, tmp_path: Path) -> None:
    lock_file = tmp_path / "images.lock.json"
    digest = "sha256:" + "ab" * 32
    registry = "us-docker.pkg.dev/p/r"
    ImageLock(
        {
            "hydra-vertex-trainer": LockedImage(
                f"{registry}/hydra-vertex-trainer", version("hydra-vertex-trainer"), digest, pushed=True
            ),
            "hydra-vertex-data-prepare": LockedImage(
                f"{registry}/hydra-vertex-data-prepare", "0.0.0-old", "sha256:" + "cd" * 32
            ),
        }
    ).save(lock_file)
    cfg = load_config([f"images.lock_file={lock_file}", f"images.registry={registry}"], repo / "configs")
    compiled = compile_pipeline(cfg, tmp_path / "p.yaml")
    assert compiled.images == {
        "hydra-vertex-data-prepare": f"{registry}/hydra-vertex-data-prepare:{version('hydra-vertex-data-prepare')}",
        "hydra-vertex-trainer": f"{registry}/hydra-vertex-trainer@{digest}",
    }
    assert executor(compiled.spec, "train")["image"] == f"{registry}/hydra-vertex-trainer@{digest}"


def test_unknown_accelerator_is_a_clear_error_listing_valid_names(
    sdk: Callable, clean_error: Callable, tmp_path: Path
) -> None:
    out = tmp_path / "p.yaml"
    result = sdk("compile", "-o", str(out), "steps.train.resources.accelerator_type=nvidia_l4")
    clean_error(
        result, "steps.train.resources.accelerator_type: 'nvidia_l4' is not a Vertex AI accelerator type"
    )
    assert "did you mean NVIDIA_L4?" in result.stderr
    assert "NVIDIA_H100_80GB" in result.stderr and "NVIDIA_TESLA_T4" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["steps.train.resources.memory=32X"], "steps.train.resources.memory: '32X': Invalid memory string"),
        (["steps.train.resources.cpu=lots"], "steps.train.resources.cpu: 'lots'"),
        (["steps.train.component=configs/components/nope.yaml"], "steps.train.component: no such file"),
        (
            ["params.dataset='a,b'"],
            "params.dataset: the value 'a,b' cannot reach task 'data-prepare' verbatim",
        ),
        (["params.epochs=many"], "params.epochs: 'many' is not an Integer"),
        (["images.lock_file=configs/pipeline.yaml"], "images.lock_file: cannot read image lock"),
    ],
)
def test_bad_config_values_fail_cleanly(
    sdk: Callable, clean_error: Callable, tmp_path: Path, overrides: list[str], message: str
) -> None:
    out = tmp_path / "p.yaml"
    result = sdk("compile", "-o", str(out), *overrides)
    clean_error(result, "pipeline-sdk compile: error: override", message)
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()
    assert not list(tmp_path.iterdir())  # no temp file left behind


def test_unwritable_output_is_a_clear_error(sdk: Callable, clean_error: Callable, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    clean_error(sdk("compile", "-o", str(blocker / "p.yaml")), f"cannot write {blocker / 'p.yaml'}")


def test_component_of_an_uninstalled_package_is_refused(
    sdk: Callable, clean_error: Callable, component: Callable, tmp_path: Path
) -> None:
    path = component("ghost", "train", {"image": "no-such-package-xyz"})
    result = sdk("compile", "-o", str(tmp_path / "p.yaml"), f"steps.train.component={path}")
    clean_error(
        result, "steps.train.component: image 'no-such-package-xyz' names a package that is not installed"
    )


def test_lint_errors_refuse_to_compile_and_show_the_diagnostics(
    sdk: Callable, clean_error: Callable, component: Callable, tmp_path: Path
) -> None:
    spec = yaml.safe_load((repo_components() / "train.yaml").read_text())
    args = [a.replace("['epochs']", '["epochs"]') for a in spec["implementation"]["container"]["args"]]
    path = component("bad_train", "train", {"args": args})
    out = tmp_path / "p.yaml"
    result = sdk("compile", "-o", str(out), f"steps.train.component={path}")
    clean_error(result, "component YAML has lint errors (hydra-yaml-lint)", f"{path}:")
    assert not out.exists()


def repo_components() -> Path:
    return Path(__file__).resolve().parents[3] / "configs" / "components"


def test_usage_errors_exit_2(sdk: Callable, clean_error: Callable) -> None:
    clean_error(sdk("compile", "--bogus"), "unrecognized arguments: --bogus", code=2)


def test_accelerator_names_come_from_aiplatform_and_are_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from google.cloud.aiplatform_v1.types.accelerator_type import AcceleratorType

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    expected = tuple(n for n in AcceleratorType.__members__ if n != "ACCELERATOR_TYPE_UNSPECIFIED")
    assert vertex_accelerator_types() == expected
    cache = next((tmp_path / "pipeline-sdk").glob("vertex-accelerators-*.json"))
    assert json.loads(cache.read_text()) == list(expected)
    cache.write_text("not json")
    assert vertex_accelerator_types() == expected
    assert json.loads(cache.read_text()) == list(expected)
