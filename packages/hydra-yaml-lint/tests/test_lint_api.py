"""The public API other packages use: ``lint_paths`` and ``Diagnostic``."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import hydra_yaml_lint
from hydra_yaml_lint import Diagnostic, LintError, Settings, lint_paths, lint_text

# the components below run `trainer`, declared a Hydra app so the Hydra rules apply without installing it
HYDRA = Settings(discover_configs=False, hydra_programs=["trainer"])
ARGPARSE = textwrap.dedent(
    """\
    name: train
    inputs:
    - {name: lr, type: Float}
    implementation:
      container:
        image: trainer:0.1.0
        command: [trainer]
        args: [--lr, {inputValue: lr}]
    """
)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_public_names_are_exported() -> None:
    assert {"lint_paths", "Diagnostic", "LintError", "fix_text", "lint_text"} <= set(hydra_yaml_lint.__all__)
    assert hydra_yaml_lint.__version__ == "0.1.0"


def test_lint_paths_reports_diagnostic_with_position_and_str(tmp_path: Path) -> None:
    component = _write(tmp_path / "train.yaml", ARGPARSE)
    [diagnostic] = lint_paths([component], config=HYDRA)
    assert isinstance(diagnostic, Diagnostic)
    assert (diagnostic.path, diagnostic.line, diagnostic.column) == (str(component), 8, 12)
    assert (diagnostic.code, diagnostic.name, diagnostic.severity) == ("HY001", "argparse-style-arg", "error")
    assert str(diagnostic) == f"{component}:8:12: HY001 {diagnostic.message}"
    assert diagnostic.fix is not None and diagnostic.fix.safe


def test_directories_are_walked_and_other_yaml_is_skipped(tmp_path: Path) -> None:
    _write(tmp_path / "a" / "train.yml", ARGPARSE)
    _write(tmp_path / "a" / "hydra_config.yaml", "trainer:\n  max_epochs: 3\n")
    _write(tmp_path / "a" / "notes.txt", ARGPARSE)
    _write(tmp_path / ".hidden" / "train.yaml", ARGPARSE)
    diagnostics = lint_paths([tmp_path], config=HYDRA)
    assert [Path(d.path).name for d in diagnostics] == ["train.yml"]


def test_select_and_ignore_accept_codes_prefixes_and_names(tmp_path: Path) -> None:
    component = _write(
        tmp_path / "train.yaml", ARGPARSE.replace("[--lr, {inputValue: lr}]", "[--lr, '{{x}}']")
    )
    settings = HYDRA
    codes = {d.code for d in lint_paths([component], config=settings)}
    assert codes == {"HY001", "HY102", "HY401"}
    assert {d.code for d in lint_paths([component], select=["HY1"], config=settings)} == {"HY102"}
    ignored = lint_paths([component], ignore=["argparse-style-arg", "HY4"], config=settings)
    assert {d.code for d in ignored} == {"HY102"}
    with pytest.raises(LintError, match="unknown rule code or name 'HY999'"):
        lint_paths([component], select=["HY999"], config=settings)


def test_missing_path_raises_lint_error(tmp_path: Path) -> None:
    with pytest.raises(LintError, match="no such file or directory"):
        lint_paths([tmp_path / "nope.yaml"])


def test_pyproject_settings_are_found_upwards_and_applied(tmp_path: Path) -> None:
    _write(
        tmp_path / "pyproject.toml",
        '[tool.hydra-yaml-lint]\nignore = ["unused-input"]\nexclude = ["legacy/*"]\ndiscover-configs = false\n',
    )
    component = _write(
        tmp_path / "components" / "train.yaml", ARGPARSE.replace("args: [--lr, {inputValue: lr}]", "args: []")
    )
    _write(tmp_path / "legacy" / "old.yaml", ARGPARSE)
    assert lint_paths([tmp_path]) == []
    assert [d.code for d in lint_paths([component], config=Settings(discover_configs=False))] == ["HY401"]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("select = 'HY001'", "select must be a list of strings"),
        ("colour = true", "unknown key 'colour'"),
        (
            "[tool.hydra-yaml-lint.components]\n'x.yaml' = {config_name = 'train'}",
            "exactly one of config_module",
        ),
        ("[tool.hydra-yaml-lint.components]\n'x.yaml' = {config_dir = 'c'}", "needs config_name"),
    ],
)
def test_bad_settings_raise_lint_error(tmp_path: Path, table: str, message: str) -> None:
    _write(tmp_path / "pyproject.toml", f"[tool.hydra-yaml-lint]\n{table}\n")
    component = _write(tmp_path / "train.yaml", ARGPARSE)
    with pytest.raises(LintError, match=message):
        lint_paths([component])


def test_kfp_lightweight_python_components_in_a_pipeline_are_skipped() -> None:
    pipeline = (Path(__file__).parent / "golden" / "wrong-direction" / "v2_pipeline.yaml").read_text()
    assert "--executor_input" in pipeline  # the pipeline has a @dsl.component step
    diagnostics = lint_text(
        pipeline, "p.yaml", settings=Settings(discover_configs=False), codes=frozenset({"HY001", "HY002"})
    )
    assert diagnostics == []


def test_repository_components_lint_clean() -> None:
    """configs/components/*.yaml of this repository, with the config-key rule wherever the component's
    package is installed (its @hydra.main config is then discovered from the console script)."""
    components = Path(__file__).resolve().parents[3] / "configs" / "components"
    if not any(components.glob("*.yaml")):
        pytest.fail(f"no component YAML in {components}")
    assert [str(d) for d in lint_paths([components])] == []
