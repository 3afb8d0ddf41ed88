"""The config-key rule against a real (tiny) Hydra app: explicit mapping, discovery through a console
script and through ``python -m``, composition through Hydra's compose API, and Hydra state isolation."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from hydra_yaml_lint import Settings, lint_paths
from hydra_yaml_lint.hydra_app import ConfigTarget, find_app
from hydra_yaml_lint.program import Program


def discover_target(module: str) -> ConfigTarget | None:
    app = find_app(Program("module", module), Path("component.yaml"))
    return app.target if app is not None else None


def _component(directory: Path, command: str, args: list[str]) -> Path:
    text = textwrap.dedent(
        f"""\
        name: train
        inputs:
        - {{name: dataset, type: Dataset}}
        - {{name: experiment, type: String, default: fashion_mnist_cnn}}
        outputs:
        - {{name: model, type: Model}}
        implementation:
          container:
            image: toyapp:0.1.0
            command: {command}
            args:
        """
    ) + "".join(f"    - {arg}\n" for arg in args)
    path = directory / "component.yaml"
    path.write_text(text)
    return path


GOOD_ARGS = [
    "data.data_dir={{$.inputs.artifacts['dataset'].path}}",
    "experiment='{{$.inputs.parameters['experiment']}}'",
    "paths.output_dir={{$.outputs.artifacts['model'].path}}",
]


def _messages(path: Path, **kwargs) -> list[str]:
    return [f"{d.line}:{d.code} {d.message}" for d in lint_paths([path], select=["HY3"], **kwargs)]


def test_python_dash_m_discovers_the_hydra_main_config(hydra_app: Path, tmp_path: Path) -> None:
    args = ["datamodule.data_dir={{$.inputs.artifacts['dataset'].path}}", GOOD_ARGS[2], "experiment=nope"]
    component = _component(tmp_path, "[python, -m, toyapp.cli]", args)
    assert _messages(component) == [
        "12:HY301 unknown config key 'datamodule.data_dir' (did you mean 'data.data_dir'?); "
        "to add a new key write '+datamodule.data_dir=...'",
        "14:HY301 unknown option 'nope' for config group 'experiment'; available: fashion_mnist_cnn",
    ]


def test_experiment_quoted_string_parameter_composes_clean(hydra_app: Path, tmp_path: Path) -> None:
    component = _component(tmp_path, "[python, -m, toyapp.cli]", GOOD_ARGS)
    assert _messages(component) == []


def test_console_script_discovery_through_entry_points(hydra_app: Path, tmp_path: Path) -> None:
    dist_info = hydra_app / "toyapp-0.1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: toyapp\nVersion: 0.1.0\n")
    (dist_info / "entry_points.txt").write_text("[console_scripts]\ntoy-train = toyapp.cli:main\n")
    component = _component(tmp_path, "[toy-train]", ["trainer.max_epoch=3", *GOOD_ARGS])
    assert _messages(component) == [
        "12:HY301 unknown config key 'trainer.max_epoch' (did you mean 'trainer.max_epochs'?); "
        "to add a new key write '+trainer.max_epoch=...'"
    ]


def test_discovery_follows_the_package_when_the_entry_module_has_no_decorator(hydra_app: Path) -> None:
    (hydra_app / "toyapp" / "entry.py").write_text("from toyapp.cli import main\n")
    target = discover_target("toyapp.entry")
    assert target is not None
    assert (target.config_dir, target.config_name, target.version_base) == (
        hydra_app / "toyapp" / "conf",
        "train",
        "1.3",
    )


def test_explicit_mapping_in_pyproject_with_config_module(hydra_app: Path, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.hydra-yaml-lint.components]\n"component.yaml" = {config_module = "toyapp.conf", config_name = "train"}\n'
    )
    component = _component(
        tmp_path, "[some-other-program]", ["model.optimizer.learning_rate=0.1", *GOOD_ARGS]
    )
    assert _messages(component) == [
        "12:HY301 unknown config key 'model.optimizer.learning_rate' (did you mean 'model.optimizer.lr'?); "
        "to add a new key write '+model.optimizer.learning_rate=...'"
    ]


def test_explicit_mapping_to_a_missing_module_is_a_config_error(tmp_path: Path, cli) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.hydra-yaml-lint.components]\n"*.yaml" = {config_module = "no_such_pkg.conf", config_name = "train"}\n'
    )
    _component(tmp_path, "[trainer]", GOOD_ARGS)
    result = cli("component.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.endswith("config_module 'no_such_pkg.conf' is not an importable package\n")
    assert len(result.stderr.splitlines()) == 1


def test_unknown_program_means_no_config_check(tmp_path: Path) -> None:
    component = _component(tmp_path, "[not-installed-anywhere]", ["whatever.key=1"])
    assert _messages(component) == []


def test_discovery_can_be_switched_off(hydra_app: Path, tmp_path: Path) -> None:
    component = _component(tmp_path, "[python, -m, toyapp.cli]", ["nope=1"])
    assert _messages(component, config=Settings(discover_configs=False)) == []
    assert len(_messages(component)) == 1


def test_running_hydra_app_state_is_restored(hydra_app: Path, tmp_path: Path) -> None:
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    caller_conf = tmp_path / "caller_conf"
    caller_conf.mkdir()
    (caller_conf / "pipeline.yaml").write_text("params:\n  epochs: 2\n")
    component = _component(tmp_path, "[python, -m, toyapp.cli]", ["nope=1"])
    with initialize_config_dir(str(caller_conf), version_base="1.3"):
        assert len(_messages(component)) == 1
        assert GlobalHydra.instance().is_initialized()
        assert compose("pipeline").params.epochs == 2  # the caller's search path is back
    assert not GlobalHydra.instance().is_initialized()


def test_toyapp_package_is_never_imported(hydra_app: Path, tmp_path: Path) -> None:
    import sys

    component = _component(tmp_path, "[python, -m, toyapp.cli]", GOOD_ARGS)
    _messages(component)
    assert "toyapp" not in sys.modules  # its __init__ raises if imported


@pytest.mark.parametrize("version_base", ["None", '"1.1"', None])
def test_version_base_literal_is_read(hydra_app: Path, version_base: str | None) -> None:
    cli_py = hydra_app / "toyapp" / "cli.py"
    argument = "" if version_base is None else f", version_base={version_base}"
    cli_py.write_text(
        f'import hydra\n\n@hydra.main(config_path="conf", config_name="train"{argument})\ndef main(cfg):\n    pass\n'
    )
    target = discover_target("toyapp.cli")
    assert target is not None
    assert target.version_base == {"None": None, '"1.1"': "1.1", None: "1.1"}[version_base]


KEYS = [
    "data.batch_size",
    "data.batchsize",
    "trainer.max_epochs",
    "trainer.max_epoch",
    "model.optimizer.lr",
    "model.optimiser.lr",
    "paths.output_dir",
    "nothing",
    "kfp.output_file",
]
STRUCTURAL = [
    "model=cnn",
    "+extra.key=1",
    "~trainer.max_epochs",
    "hydra.job.chdir=notabool",
    "experiment=nope",
]


def test_plain_overrides_checked_without_hydra_agree_with_hydra(hydra_app: Path, monkeypatch) -> None:
    """The fast path (plain overrides looked up in the composed config) finds what composing every
    override with Hydra finds, for mixes of known and unknown keys and structural overrides."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from hydra_yaml_lint import hydra_compose
    from hydra_yaml_lint.hydra_app import ConfigTarget

    target = ConfigTarget(hydra_app / "toyapp" / "conf", "train", "1.3", "test")
    plain = st.tuples(st.sampled_from(KEYS), st.sampled_from(["1", "0.5", "abc", "[1,2]", "{a:1}"])).map(
        lambda pair: f"{pair[0]}={pair[1]}"
    )

    @settings(max_examples=15, deadline=None)
    @given(st.lists(st.one_of(plain, st.sampled_from(STRUCTURAL)), max_size=5))
    def agree(overrides: list[str]) -> None:
        keys = tuple(text.split("=", 1)[0].lstrip("+~") for text in overrides)
        fast = hydra_compose.check_overrides.__wrapped__(target, tuple(overrides), keys)
        with monkeypatch.context() as patched:
            patched.setattr(hydra_compose, "_is_plain", lambda text, key, groups: False)
            slow = hydra_compose.check_overrides.__wrapped__(target, tuple(overrides), keys)
        assert [(f.index, f.unknown_key) for f in fast] == [(f.index, f.unknown_key) for f in slow]
        assert [f.message for f in fast if f.unknown_key] == [f.message for f in slow if f.unknown_key]

    agree()
