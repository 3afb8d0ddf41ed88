"""The compiled file holds exactly the spec kfp built: no configured text can add to it or replace it
(kfp writes parameter defaults into its `# Inputs:` comment unescaped, kubeflow/pipelines#10438)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline_sdk.compiler import compile_pipeline
from pipeline_sdk.config import load_config
from pipeline_sdk.errors import ConfigError, ParameterError
from pipeline_sdk.params import parameter_uses, quote_for_hydra, read_override_value
from pipeline_sdk.pipeline_file import comment_text, read_documents

INJECTIONS = [
    "a\nsecurityInjected: {evil: true}\n#",
    "a\n---\nreplaced: true\n#",
    "a\r\nsecurityInjected: true",
    "a\x85securityInjected: true",
    "a\u2028securityInjected: true\u2029",
    "\x1b[31mred\x07\x0c\x0b\x7f",
    "'; x: 1 #",
]


def string_parameters(repo: Path) -> list[str]:
    cfg = load_config(config_dir=repo / "configs")
    return [name for name, value in cfg.params.items() if isinstance(value, str)]


def without_default(spec: dict[str, Any], name: str) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    del spec["root"]["inputDefinitions"]["parameters"][name]["defaultValue"]
    return spec


def compile_value(repo: Path, out: Path, name: str, value: str) -> dict[str, Any]:
    cfg = load_config([f"params.{name}='{quote_for_hydra(value)}'"], repo / "configs")
    assert cfg.params[name] == value
    return compile_pipeline(cfg, out).spec


@pytest.fixture(scope="module")
def baselines(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    out = tmp_path_factory.mktemp("baseline") / "p.yaml"
    return {name: compile_value(repo, out, name, "plain") for name in string_parameters(repo)}


def check_round_trip(
    path: Path, spec: dict[str, Any], baseline: dict[str, Any], name: str, value: str
) -> None:
    (loaded,) = read_documents(path)  # one document: nothing appended, nothing replaced
    assert loaded == spec
    assert without_default(loaded, name) == without_default(baseline, name)
    wired = loaded["root"]["inputDefinitions"]["parameters"][name]["defaultValue"]
    for use in parameter_uses(loaded)[name]:
        assert read_override_value(use.arg.replace(use.placeholder, wired)) == value


@pytest.mark.parametrize("value", INJECTIONS)
def test_line_breaks_and_control_characters_travel_escaped(
    repo: Path, tmp_path: Path, baselines: dict[str, dict[str, Any]], value: str
) -> None:
    out = tmp_path / "p.yaml"
    spec = compile_value(repo, out, "experiment", value)
    check_round_trip(out, spec, baselines["experiment"], "experiment", value)
    header = out.read_text().split("\ncomponents:", 1)[0]
    assert all(line.startswith("#") for line in header.splitlines())
    assert (
        f"[Default: '{comment_text(spec['root']['inputDefinitions']['parameters']['experiment']['defaultValue'])}']"
        in header
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), value=st.text(max_size=40))
def test_any_unicode_value_compiles_to_exactly_that_default_or_is_refused_by_name(
    repo: Path, tmp_path: Path, baselines: dict[str, dict[str, Any]], data: st.DataObject, value: str
) -> None:
    name = data.draw(st.sampled_from(sorted(baselines)))
    out = tmp_path / f"{name}.yaml"
    out.unlink(missing_ok=True)
    try:
        spec = compile_value(repo, out, name, value)
    except ConfigError as e:  # refused (e.g. NUL, or Hydra would change an unquoted value): by its key
        assert f"params.{name}" in str(e)
        assert not out.exists()
        return
    check_round_trip(out, spec, baselines[name], name, value)


def test_description_with_line_breaks_stays_one_comment_block(repo: Path, tmp_path: Path) -> None:
    description = "first\nsecond: injected\x85third\u2028---\nfourth"
    cfg = load_config([f"pipeline.description='{quote_for_hydra(description)}'"], repo / "configs")
    out = tmp_path / "p.yaml"
    spec = compile_pipeline(cfg, out).spec
    (loaded,) = read_documents(out)
    assert loaded == spec and loaded["pipelineInfo"]["description"] == description
    assert "second" not in yaml.safe_load(out.read_text())


def test_a_value_no_command_line_can_carry_is_refused_by_key(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.yaml"
    with pytest.raises(ParameterError, match=r"params\.experiment: .* contains a NUL character"):
        compile_value(repo, out, "experiment", "a\x00b")
    assert not out.exists() and list(tmp_path.iterdir()) == []
