"""The repository's own configs are what the product checks for: lint-clean, and wired to real packages."""

import shutil
import subprocess
import sys
from pathlib import Path

from omegaconf import OmegaConf

ROOT = Path(__file__).resolve().parents[1]


def tool(name: str) -> str:
    return shutil.which(name, path=str(Path(sys.executable).parent)) or name


def test_component_yamls_lint_clean_with_config_keys():
    result = subprocess.run(
        [tool("hydra-yaml-lint"), "configs/"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_component_commands_are_installed_console_scripts():
    from kfp import components  # reads KFP v1 component YAML and v2 IR (select_best.yaml) alike

    for path in sorted((ROOT / "configs" / "components").glob("*.yaml")):
        container = components.load_component_from_file(str(path)).component_spec.implementation.container
        command = container.command
        assert shutil.which(command[0], path=str(Path(sys.executable).parent)), f"{path.name}: {command[0]}"


def test_each_training_default_agrees_in_its_three_copies():
    """A training default is written in configs/pipeline.yaml (the run's parameter), in train.yaml (the
    component's input default) and in the trainer's preset that the component selects by default; a run
    gets the same training from the pipeline, the component alone and `trainer experiment=PRESET`."""
    import re

    import yaml
    from hydra import compose, initialize_config_module

    component = yaml.safe_load((ROOT / "configs" / "components" / "train.yaml").read_text())
    pipeline = yaml.safe_load((ROOT / "configs" / "pipeline.yaml").read_text())
    defaults = {i["name"]: yaml.safe_load(i["default"]) for i in component["inputs"] if "default" in i}
    fed_by = {
        name: source.removeprefix("params.")
        for name, source in pipeline["steps"]["train"]["inputs"].items()
        if source.startswith("params.")
    }
    to_key = {}  # component input -> the trainer key it sets
    for arg in component["implementation"]["container"]["args"]:
        match = re.fullmatch(r"([\w.]+)='?\{\{\$\.inputs\.parameters\['(\w+)'\]\}\}'?", arg)
        if match:
            to_key[match[2]] = match[1]
    with initialize_config_module("trainer.conf", version_base="1.3"):
        preset = compose("train", overrides=[f"experiment={defaults['experiment']}"])
    checked = []
    for name, key in to_key.items():
        if name == "experiment" or name not in defaults:
            continue
        trainer_value = OmegaConf.select(preset, key)
        assert defaults[name] == trainer_value, (
            f"train.yaml {name}={defaults[name]!r}, trainer {key}={trainer_value!r}"
        )
        if name in fed_by:
            assert pipeline["params"][fed_by[name]] == defaults[name], f"pipeline.yaml params.{fed_by[name]}"
        checked.append(name)
    assert {"epochs", "learning_rate", "batch_size", "seed"} <= set(checked)
    assert pipeline["params"][fed_by["experiment"]] == defaults["experiment"]


def test_select_best_yaml_is_kfp_s_compilation_of_its_signature(tmp_path: Path) -> None:
    """configs/components/select_best.yaml is KFP IR (a list-of-artifacts input has no KFP v1 form): it is
    what kfp compiles from this container component, so it cannot drift from what kfp would write."""
    from typing import List, Optional  # noqa: UP035 - kfp reads typing.List annotations

    import yaml
    from kfp import compiler, dsl
    from kfp.dsl import HTML, Input, Markdown, Metrics, Model, Output

    @dsl.container_component
    def select_best(
        best_model: Output[Model],
        metrics: Output[Metrics],
        report: Output[HTML],
        table: Output[Markdown],
        trials: Optional[Input[List[Model]]] = None,  # noqa: UP006, UP045
        selection_metric: str = "val_accuracy",
        selection_goal: str = "maximize",
        trial_parameters: str = "",
        experiment: str = "",
        project: str = "",
        location: str = "",
        api_endpoint: str = "",
        pipeline_job: str = "",
    ):
        return dsl.ContainerSpec(
            image="hydra-vertex-select-best", command=["select-best"], args=["kfp.executor_input='{{$}}'"]
        )

    compiler.Compiler().compile(select_best, str(tmp_path / "select_best.yaml"))
    compiled = yaml.safe_load((tmp_path / "select_best.yaml").read_text())
    assert yaml.safe_load((ROOT / "configs" / "components" / "select_best.yaml").read_text()) == compiled
