"""Other repositories can use the hook: ``pre-commit try-repo`` installs this repository (pip, from
PyPI for the dependencies) and runs ``hydra-yaml-lint`` on a throwaway repository's YAML."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
GOLDEN = Path(__file__).parent / "golden"


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.mark.slow
def test_pre_commit_try_repo(tmp_path: Path) -> None:
    assert (REPO_ROOT / ".pre-commit-hooks.yaml").is_file()
    consumer = tmp_path / "consumer"
    (consumer / "components").mkdir(parents=True)
    shutil.copy(GOLDEN / "wrong-direction" / "conversion_table.yaml", consumer / "components" / "bad.yaml")
    shutil.copy(GOLDEN / "clean" / "contract_train.yaml", consumer / "components" / "good.yaml")
    (consumer / "notes.md").write_text("not YAML\n")
    _git("init", "-q", cwd=consumer)
    _git("add", ".", cwd=consumer)
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(REPO_ROOT), "hydra-yaml-lint", "--all-files"],
        cwd=consumer,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = result.stdout + result.stderr
    assert "'-mpip', 'install', '.'" not in output, (
        "pre-commit could not `pip install .` the repository root: it needs the root setup.py that installs "
        "packages/hydra-yaml-lint (see that package's README, 'Hook repository')\n" + output
    )
    assert "An unexpected error has occurred" not in output, output
    assert "hydra-yaml-lint" in output and "Failed" in output, output
    assert result.returncode == 1, output
    assert "components/bad.yaml:16:24: HY104 'model' is an output but is referenced under $.inputs" in output
    assert "good.yaml" not in output.replace("components/bad.yaml", "")
