"""``gcp.experiment`` in a sweep: the selection step is told the experiment and the pipeline job's name, so
that it records each trial as a Vertex AI Experiment run (select-best's tests check the records it writes)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline_sdk.compiler import compile_pipeline
from pipeline_sdk.sweep import load_with_sweep

SWEEP = ["params.learning_rate=0.002,0.004"]
GCP = ["gcp.experiment=fashion-sweeps", "gcp.project=demo-project", "gcp.region=europe-west4"]


def _select_inputs(tmp_path: Path, overrides: list[str]) -> dict[str, Any]:
    cfg, sweep = load_with_sweep(overrides, None, multirun=True)
    spec = compile_pipeline(cfg, tmp_path / "sweep.yaml", sweep).spec
    task = spec["root"]["dag"]["tasks"]["select-best"]
    return {k: v["runtimeValue"]["constant"] for k, v in task["inputs"]["parameters"].items()}


def test_the_selection_step_gets_the_experiment_and_the_pipeline_jobs_name(tmp_path: Path) -> None:
    inputs = _select_inputs(tmp_path, [*SWEEP, *GCP, "gcp.api_endpoint=europe-west4-aiplatform.example:443"])
    assert {k: inputs[k] for k in ("experiment", "project", "location", "api_endpoint", "pipeline_job")} == {
        "experiment": "fashion-sweeps",
        "project": "demo-project",
        "location": "europe-west4",
        "api_endpoint": "europe-west4-aiplatform.example:443",
        # the service resolves it in a constant input (docs/vertex-behaviour.md X3)
        "pipeline_job": "{{$.pipeline_job_name}}",
    }


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param([], id="no experiment"),
        pytest.param([*GCP, "backend=kfp", "kfp.host=http://127.0.0.1:1"], id="kfp backend"),
    ],
)
def test_without_a_vertex_experiment_the_selection_step_is_told_to_record_nothing(
    tmp_path: Path, overrides: list[str]
) -> None:
    inputs = _select_inputs(tmp_path, [*SWEEP, *overrides])
    # each passed all the same: kfp's ignore_upstream_failure wants an argument for every declared input
    names = ("experiment", "project", "location", "api_endpoint", "pipeline_job")
    assert [inputs[k] for k in names] == [""] * 5


def test_a_component_without_the_experiment_input_is_left_as_it_is(
    tmp_path: Path, probe_select: Path
) -> None:
    # the release steps declare project and location too, and are never given the experiment's
    inputs = _select_inputs(tmp_path, [*SWEEP, *GCP, f"sweep.steps.select-best.component={probe_select}"])
    assert inputs["experiment"] == "fashion-sweeps" and inputs["pipeline_job"] == "{{$.pipeline_job_name}}"
    assert "project" not in inputs  # the probe does not declare it


def test_a_local_sweep_resolves_the_pipeline_jobs_name_to_the_runs(
    sdk: Callable, probe_overrides: list[str], runs: Path
) -> None:
    result = sdk("run", *probe_overrides, *GCP, "-m", *SWEEP, "--run-name", "sweep-7")
    assert result.returncode == 0, result.stderr
    received = json.loads((runs / "sweep-7" / "select-best" / "best_model" / "selection.json").read_text())
    assert received["experiment"] == "fashion-sweeps"
    assert received["pipeline_job"] == "sweep-7"
