"""`pipeline-sdk serve`: which model a run directory names, and the errors before a server starts."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline_sdk.commands.serve import MODEL_FILES, model_dir_of
from pipeline_sdk.errors import UsageError


def model(path: Path) -> Path:
    path.mkdir(parents=True)
    for name in MODEL_FILES:
        (path / name).write_text("x")
    return path


def run_dir(root: Path, tasks: dict[str, dict[str, Any]]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "run.json").write_text(json.dumps({"state": "SUCCEEDED", "tasks": tasks}))
    return root


def task(state: str = "SUCCEEDED", **outputs: tuple[str, Path]) -> dict[str, Any]:
    return {"state": state, "outputs": {n: {"type": t, "uri": str(u)} for n, (t, u) in outputs.items()}}


def not_a_record(root: Path) -> Path:
    root.mkdir()
    (root / "run.json").write_text("[1]")
    return root


def test_a_model_directory_is_served_as_it_is(tmp_path: Path) -> None:
    assert model_dir_of(model(tmp_path / "m")) == tmp_path / "m"


def test_a_run_serves_its_last_steps_model(tmp_path: Path) -> None:
    trained = model(tmp_path / "run" / "train" / "model")
    registered = tmp_path / "run" / "register-model" / "registered_model"
    registered.mkdir(parents=True)
    (registered / "registration.json").write_text("{}")
    root = run_dir(
        tmp_path / "run",
        {
            "data-prepare": task(dataset=("system.Dataset", tmp_path / "d")),
            "train": task(model=("system.Model", trained), metrics=("system.Metrics", tmp_path / "x")),
            # a Model output without the model files (the registration record) is not a servable model
            "register-model": task(registered_model=("system.Model", registered)),
        },
    )
    assert model_dir_of(root) == trained


def test_a_sweep_serves_the_selected_model_not_a_trials(tmp_path: Path) -> None:
    trials = [model(tmp_path / "run" / f"train-trial-{n}" / "model") for n in (1, 2)]
    best = model(tmp_path / "run" / "select-best" / "best_model")
    tasks = {f"train-trial-{n}": task(model=("system.Model", t)) for n, t in enumerate(trials, 1)}
    tasks["select-best"] = task(best_model=("system.Model", best))
    assert model_dir_of(run_dir(tmp_path / "run", tasks)) == best


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda tmp: run_dir(
                tmp / "run", {"train-trial-1": task(model=("system.Model", model(tmp / "t1")))}
            ),
            "the run has no selected model; serve one trial's:",
        ),
        (
            lambda tmp: run_dir(
                tmp / "run", {"train": task("FAILED", model=("system.Model", model(tmp / "m")))}
            ),
            "no step of the run produced a model",
        ),
        (lambda tmp: run_dir(tmp / "run", {}), "no step of the run produced a model"),
        (
            lambda tmp: not_a_record(tmp / "run"),
            "not a run record of `pipeline-sdk run`",
        ),
        (lambda tmp: tmp / "nowhere", "does not exist"),
    ],
    ids=["only-trials", "failed-training", "no-tasks", "not-a-record", "missing"],
)
def test_what_cannot_be_served_is_one_message(
    tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    with pytest.raises(UsageError) as caught:
        model_dir_of(make(tmp_path))
    assert message in str(caught.value)


def test_without_the_serve_program_it_says_what_to_install(
    sdk: Callable, tmp_path: Path, clean_error: Callable
) -> None:
    result = sdk("serve", str(model(tmp_path / "m")), env={"PATH": str(tmp_path)})
    clean_error(result, "the `serve` program is not installed (pip install hydra-vertex-serve", code=2)
