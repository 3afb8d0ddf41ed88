"""What Vertex AI / GCPC / the KFP backend do at run time, as ``pipeline-sdk run`` reproduces it, tested both
ways: the form that fails on the service fails here, the form we compile passes (docs/vertex-behaviour.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline_sdk.compiler import compile_pipeline
from pipeline_sdk.config import load_config
from pipeline_sdk.custom_job import PayloadError, payload_text, resolved_worker_pools
from pipeline_sdk.errors import LocalRunError, ParameterError
from pipeline_sdk.local.expressions import ExpressionError, select
from pipeline_sdk.local.prepare import prepare_task
from pipeline_sdk.params import hydra_quoted_text, parameter_uses, read_override_value, wire_values

#: values that, pasted raw into the CustomJob payload (escaped for Hydra only), make it invalid JSON
BREAK_THE_PAYLOAD = ["o'neil", 'a"b', "line\nbreak", "tab\there"]
HOSTILE = [*BREAK_THE_PAYLOAD, "trailing\\", "C:\\new"]
PLACEHOLDER = "{{$.inputs.parameters['seed']}}"
FRAGMENTS = [*"'\"\\\n\t$,=", "{{", "}}", "{{$", "${", "${oc.env:HOME}", "[1]", "\u2028"]


# --- loop items: parseJson(string_value)[...] (kubeflow/pipelines#12191) ---------------------------------


def test_a_field_of_a_json_string_item_is_read() -> None:
    assert select('{"lr": 0.1, "name": "a\\"b"}', 'parseJson(string_value)["lr"]') == 0.1
    assert select('{"lr": 0.1, "name": "a\\"b"}', 'parseJson(string_value)["name"]') == 'a"b'


@pytest.mark.parametrize("item", [{"lr": 0.1}, [0.1], 0.1])
def test_a_field_of_an_item_that_is_not_a_string_fails_as_on_vertex(item: Any) -> None:
    with pytest.raises(ExpressionError, match="Failed to parseJson from string"):
        select(item, 'parseJson(string_value)["lr"]')


def test_a_missing_field_or_another_expression_is_an_error() -> None:
    with pytest.raises(ExpressionError, match="no field 'lr'"):
        select('{"x": 1}', 'parseJson(string_value)["lr"]')
    with pytest.raises(ExpressionError, match="unsupported parameter expression"):
        select('{"x": 1}', "string_value")


# --- the CustomJob payload: values pasted into JSON as they are (GCPC 2.22.0) -------------------------------


def paste(value: str):
    return lambda text: text.replace("{{$.inputs.parameters['experiment']}}", value)


POOLS = [{"container_spec": {"args": ["experiment='{{$.inputs.parameters['experiment']}}'"]}}]


def arrives(pools: list[dict[str, Any]]) -> Any:
    return read_override_value(pools[0]["container_spec"]["args"][0])


@pytest.mark.parametrize("value", BREAK_THE_PAYLOAD)
def test_a_raw_value_breaks_the_payload_and_an_escaped_one_arrives(value: str) -> None:
    text = hydra_quoted_text(value)
    with pytest.raises(PayloadError, match="not JSON"):
        resolved_worker_pools(POOLS, paste(text))
    assert arrives(resolved_worker_pools(POOLS, paste(payload_text(text)))) == value


def test_a_raw_backslash_escape_arrives_changed() -> None:
    text = hydra_quoted_text("C:\\new\\")  # valid JSON escapes: parsed, and no longer the value
    with pytest.raises(ValueError, match="Hydra cannot parse it"):
        arrives(resolved_worker_pools(POOLS, paste(text)))
    assert arrives(resolved_worker_pools(POOLS, paste(payload_text(text)))) == "C:\\new\\"


# --- the whole path: compiled spec -> the service's substitution -> the command line -> Hydra --------------


@pytest.fixture(scope="module")
def specs(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The default pipeline compiled with a plain train step and with a 2-replica CustomJob train step."""
    out = tmp_path_factory.mktemp("specs")
    compiled = {}
    for mode, overrides in {"plain": [], "custom_job": ["steps.train.resources.replica_count=2"]}.items():
        cfg = load_config(overrides, repo / "configs")
        compiled[mode] = compile_pipeline(cfg, out / f"{mode}.yaml").spec
    return compiled


def command_line(spec: dict[str, Any], experiment: str, root: Path) -> list[str]:
    """The train task's command line (a CustomJob's: its replicas') with ``experiment`` as the run-time value
    of ``params.experiment``, after the service has put the values in."""
    return _prepared(spec, experiment, root).command


def _prepared(spec: dict[str, Any], experiment: str, root: Path) -> Any:
    from google.protobuf import json_format
    from kfp import dsl
    from kfp.pipeline_spec import pipeline_spec_pb2

    component = json_format.ParseDict(spec["components"]["comp-train"], pipeline_spec_pb2.ComponentSpec())
    executor = spec["deploymentSpec"]["executors"][component.executor_label]["container"]
    container = json_format.ParseDict(
        executor,
        pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec(),
        ignore_unknown_fields=True,
    )
    arguments = {
        "dataset": dsl.Dataset(uri=str(root / "dataset")),
        "epochs": 1,
        "learning_rate": 0.1,
        "batch_size": 8,
        "seed": 1,
        "experiment": experiment,
    }
    return prepare_task("train", component, container, arguments, root, "run")


def received(command: list[str]) -> Any:
    (arg,) = [arg for arg in command if arg.startswith("experiment=")]
    return read_override_value(arg)


@pytest.mark.parametrize("mode", ["plain", "custom_job"])
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_reach_the_app(specs: dict, tmp_path: Path, mode: str, value: str) -> None:
    spec = specs[mode]
    wire = wire_values({"experiment": value}, parameter_uses(spec))["experiment"]
    assert received(command_line(spec, wire, tmp_path)) == value


def test_the_old_unescaped_value_fails_the_custom_job_step(specs: dict, tmp_path: Path) -> None:
    old_wire = hydra_quoted_text('a"b')  # escaped for Hydra only, as before
    with pytest.raises(LocalRunError, match="step 'train' cannot start: the CustomJob payload is not JSON"):
        command_line(specs["custom_job"], old_wire, tmp_path)


@pytest.mark.parametrize("mode", ["plain", "custom_job"])
def test_a_placeholder_in_a_value(specs: dict, mode: str) -> None:
    value = PLACEHOLDER
    uses = parameter_uses(specs[mode])
    if mode == "plain":  # the services may substitute it again
        with pytest.raises(ParameterError, match=r"holds '\{\{\$', which Vertex AI and the KFP backend"):
            wire_values({"experiment": value}, uses)
    else:  # JSON-escaped, the payload never holds its braces
        assert "{{" not in wire_values({"experiment": value}, uses)["experiment"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    value=st.lists(
        st.one_of(
            st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), st.sampled_from(FRAGMENTS)
        ),
        max_size=12,
    ).map("".join)
)
def test_any_string_value_reaches_a_plain_and_a_custom_job_step_exactly(
    specs: dict, tmp_path: Path, value: str
) -> None:
    for mode, spec in specs.items():
        try:
            wire = wire_values({"experiment": value}, parameter_uses(spec))["experiment"]
        except ParameterError:
            # the only refusals: OmegaConf's missing marker, and a placeholder a plain task would receive
            assert value == "???" or (mode == "plain" and "{{$" in hydra_quoted_text(value)), value
            continue
        assert received(command_line(spec, wire, tmp_path)) == value, mode


# --- the KFP backend's launcher: which placeholders it substitutes (launcher_v2.go@2.17.0) -----------------


def launcher_v2(arg: str, executor_input: dict[str, Any]) -> str:
    """``arg`` as the open-source KFP launcher resolves it (``getPlaceholders`` / ``compileCmdAndArgs``):
    ``{{$}}`` first, then the parameter, artifact uri/path and output-parameter file placeholders; any other
    placeholder, ``{{$.outputs.output_file}}`` among them, stays as it is."""
    import json

    arg = arg.replace("{{$}}", json.dumps(executor_input))
    table: dict[str, str] = {}
    for name, value in executor_input["inputs"].get("parameterValues", {}).items():
        text = value if isinstance(value, str) else json.dumps(value)
        table["{{$.inputs.parameters['" + name + "']}}"] = text
    for io in ("inputs", "outputs"):
        for name, listed in executor_input[io].get("artifacts", {}).items():
            uri = listed["artifacts"][0]["uri"]
            table["{{$." + io + ".artifacts['" + name + "'].uri}}"] = uri
            table["{{$." + io + ".artifacts['" + name + "'].path}}"] = (
                uri  # a local root: the path is the uri
            )
    for placeholder, value in table.items():
        arg = arg.replace(placeholder, value)
    return arg


@pytest.mark.parametrize("form", ["executor input", "output file only (old)"])
def test_the_metrics_reach_the_kfp_backends_executor_output(specs: dict, tmp_path: Path, form: str) -> None:
    import json
    import subprocess
    import sys

    from google.protobuf import json_format

    from pipeline_sdk.local.prepare import PreparedTask

    spec = specs["plain"]
    container = spec["deploymentSpec"]["executors"]["exec-train"]["container"]
    args = container["args"]
    if form != "executor input":
        args = [arg for arg in args if not arg.startswith("kfp.executor_input=")]
    wire = wire_values({"experiment": "experiment 'x' ${y}"}, parameter_uses(spec))["experiment"]
    prepared: PreparedTask = _prepared(spec, wire, tmp_path)
    executor_input = json_format.MessageToDict(prepared.executor_input)
    resolved = [launcher_v2(arg, executor_input) for arg in args]
    assert "kfp.output_file={{$.outputs.output_file}}" in resolved  # left as it is
    probe = Path(__file__).with_name("hydra_probe_app.py")
    done = subprocess.run(
        [sys.executable, str(probe), *resolved], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    output_file = Path(executor_input["outputs"]["outputFile"])
    if form == "executor input":
        written = json.loads(output_file.read_text())
        assert written["artifacts"]["metrics"]["artifacts"][0]["metadata"]["val_accuracy"] == 0.1
    else:  # the old component: the file the launcher reads back is never written
        assert not output_file.exists()
