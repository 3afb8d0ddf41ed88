"""The repository's own configs are what the product checks for: lint-clean, and wired to real packages."""

import shutil
import subprocess
import sys
from pathlib import Path

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
