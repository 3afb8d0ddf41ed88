"""A stand-in for the sweep's select-best step in fast tests: it records the trials it is given.

It reads the executor input (``{{$}}``, first argument), writes the list of trial model URIs, and whether
each holds ``received.json`` (the probe trainer's output), to ``<table>`` and ``<report>``; the selection
inputs the compiler fills (metric, goal, trial parameters, experiment, pipeline job) go to ``<best_model>/selection.json``.
:func:`write_component` writes its KFP v2 component YAML (select-best's interface).
"""
# No `from __future__ import annotations`: kfp reads the component's annotations as types.

import json
import sys
from pathlib import Path


def main() -> None:
    executor_input = json.loads(sys.argv[1])
    trials = executor_input["inputs"]["artifacts"].get("trials", {}).get("artifacts", [])
    outputs = executor_input["outputs"]["artifacts"]
    rows = [
        f"| {n} | {a['uri']} | {(Path(a['uri']) / 'received.json').exists()} |"
        for n, a in enumerate(trials, 1)
    ]
    Path(outputs["table"]["artifacts"][0]["uri"]).write_text(
        "| trial | uri | ok |\n" + "\n".join(rows) + "\n"
    )
    Path(outputs["report"]["artifacts"][0]["uri"]).write_text(
        f"<html><body>{len(trials)} trials</body></html>"
    )
    best_model = Path(outputs["best_model"]["artifacts"][0]["uri"])
    best_model.mkdir(parents=True)
    (best_model / "selection.json").write_text(
        json.dumps(executor_input["inputs"].get("parameterValues", {}))
    )
    print(f"probe-select: {len(trials)} trials")


def write_component(path: Path) -> Path:
    from kfp import compiler, dsl

    @dsl.container_component
    def select_best(
        best_model: dsl.Output[dsl.Model],
        table: dsl.Output[dsl.Markdown],
        report: dsl.Output[dsl.HTML],
        trials: dsl.Input[list[dsl.Model]] = None,
        selection_metric: str = "val_accuracy",
        selection_goal: str = "maximize",
        trial_parameters: str = "",
        experiment: str = "",
        pipeline_job: str = "",
    ) -> dsl.ContainerSpec:
        return dsl.ContainerSpec(image="localhost/probe:1", command=["python", __file__], args=["{{$}}"])

    path.parent.mkdir(parents=True, exist_ok=True)
    compiler.Compiler().compile(select_best, str(path))
    return path


if __name__ == "__main__":
    main()
