"""The pipeline's shape is configuration: `steps` and `params` in configs/pipeline.yaml. Adding a step or a
parameter needs a component YAML and config lines, no code."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline_sdk.compiler import compile_pipeline
from pipeline_sdk.config import load_config
from pipeline_sdk.errors import ConfigError

EVALUATION = Path(__file__).with_name("evaluation")


@pytest.fixture
def evaluate_component(tmp_path: Path) -> Path:
    """tests/evaluation/evaluate.yaml with its command pointing at the evaluation app."""
    text = (
        (EVALUATION / "evaluate.yaml")
        .read_text()
        .replace("EVALUATE_APP", str(EVALUATION / "evaluate_app.py"))
    )
    path = tmp_path / "evaluate.yaml"
    path.write_text(text)
    return path


def evaluation_step(component: Path) -> list[str]:
    """The config lines (as overrides) that add the evaluation step and its parameter."""
    return [
        "+params.eval_split=test",
        f"+steps.evaluate.component={component}",
        "+steps.evaluate.inputs.model=train.outputs.model",
        "+steps.evaluate.inputs.dataset=data-prepare.outputs.dataset",
        "+steps.evaluate.inputs.split=params.eval_split",
    ]


def test_an_evaluation_step_is_configuration_only(
    repo: Path, tmp_path: Path, evaluate_component: Path
) -> None:
    cfg = load_config(evaluation_step(evaluate_component), repo / "configs")
    spec = compile_pipeline(cfg, tmp_path / "p.yaml").spec
    tasks = spec["root"]["dag"]["tasks"]
    assert set(tasks) == {"data-prepare", "train", "evaluate"}
    artifacts = tasks["evaluate"]["inputs"]["artifacts"]
    assert artifacts["model"]["taskOutputArtifact"] == {"producerTask": "train", "outputArtifactKey": "model"}
    assert artifacts["dataset"]["taskOutputArtifact"]["producerTask"] == "data-prepare"
    assert tasks["evaluate"]["inputs"]["parameters"]["split"] == {"componentInputParameter": "eval_split"}
    assert spec["root"]["inputDefinitions"]["parameters"]["eval_split"] == {
        "defaultValue": "test",
        "isOptional": True,
        "parameterType": "STRING",
    }
    assert set(tasks["evaluate"]["dependentTasks"]) == {"data-prepare", "train"}


def test_the_evaluation_step_runs_locally_on_the_trained_model(
    sdk: Callable, tiny_data_prepare: Path, tiny_train: Path, evaluate_component: Path, runs: Path
) -> None:
    result = sdk(
        "run",
        f"steps.data-prepare.component={tiny_data_prepare}",
        f"steps.train.component={tiny_train}",
        *evaluation_step(evaluate_component),
        f"local.root={runs}",
        "params.epochs=1",
        "params.batch_size=32",
        "--run-name",
        "eval",
    )
    assert result.returncode == 0, result.stderr
    assert "[3/3] evaluate: succeeded" in result.stderr
    record = result.run_json()
    assert list(record["tasks"]) == ["data-prepare", "train", "evaluate"]
    report = Path(record["tasks"]["evaluate"]["outputs"]["report"]["uri"]) / "evaluation.json"
    evaluated = json.loads(report.read_text())
    trained = json.loads((runs / "eval" / "train" / "model" / "metrics.json").read_text())
    assert evaluated["examples"] == 50
    assert evaluated["test_accuracy"] == pytest.approx(trained["test_accuracy"], abs=1e-6)
    assert record["metrics"]["evaluate"]["metrics"]["test_accuracy"] == evaluated["test_accuracy"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["+params.extra=1"], "params.extra: no step uses it"),
        (["steps.train.inputs.epochs=params.nope"], "steps.train.inputs.epochs: no parameter params.nope"),
        (["+steps.train.inputs.nope=params.epochs"], "steps.train.inputs.nope: "),
        (["steps.train.inputs.dataset=params.epochs"], "input 'dataset' is a system.Dataset@0.0.1, so write"),
        (["steps.train.inputs.epochs=data-prepare.outputs.dataset"], "input 'epochs' is a Integer, so write"),
        (["steps.train.inputs.dataset=ghost.outputs.dataset"], "steps.train.inputs.dataset: no step 'ghost'"),
        (
            ["steps.train.inputs.dataset=data-prepare.outputs.nope"],
            "step 'data-prepare' has no output 'nope'",
        ),
        (["~steps.train.inputs.dataset"], "steps.train.inputs: "),
        (["+steps.data-prepare.after=[train]"], "depend on each other in a cycle"),
        (["steps.train.inputs.epochs=params.dataset"], "params.dataset feeds an Integer here but a String"),
        (["params.epochs=1.5"], "params.epochs: 1.5 is not an Integer"),
        (["params.learning_rate=nan"], "params.learning_rate: nan is not a Float"),
        (["~steps.data-prepare", "~steps.train"], "steps: the pipeline has no steps"),
    ],
)
def test_shape_mistakes_name_the_key(repo: Path, tmp_path: Path, overrides: list[str], message: str) -> None:
    cfg = load_config(overrides, repo / "configs")
    with pytest.raises(ConfigError) as caught:
        compile_pipeline(cfg, tmp_path / "p.yaml")
    assert message in str(caught.value)
    assert str(caught.value).startswith("override '")
    assert list(tmp_path.iterdir()) == []


def test_an_integer_feeds_a_float_and_null_a_string(repo: Path, tmp_path: Path) -> None:
    cfg = load_config(["params.learning_rate=1", "params.experiment=null"], repo / "configs")
    compiled = compile_pipeline(cfg, tmp_path / "p.yaml")
    assert compiled.raw_parameter_values["learning_rate"] == 1.0
    assert compiled.raw_parameter_values["experiment"] == ""  # the trainer reads experiment='' as none


def test_a_step_runs_with_its_own_caching_and_retries(repo: Path, tmp_path: Path) -> None:
    cfg = load_config(["+steps.train.caching=false", "steps.data-prepare.retries=0"], repo / "configs")
    tasks = compile_pipeline(cfg, tmp_path / "p.yaml").spec["root"]["dag"]["tasks"]
    assert tasks["train"]["cachingOptions"] == {}
    assert tasks["data-prepare"]["cachingOptions"]["enableCache"] is True
    assert "retryPolicy" not in tasks["data-prepare"] and tasks["train"]["retryPolicy"]["maxRetryCount"] == 1
