"""Other repositories can use the published hook (the root ``.pre-commit-hooks.yaml``): ``pre-commit
try-repo`` installs this repository the way a consumer's pre-commit does -- ``pip install .`` at its root,
which the root ``setup.py`` turns into an install of ``packages/hydra-yaml-lint``, dependencies from PyPI
-- and runs ``hydra-yaml-lint`` on a throwaway consumer repository's component YAML.

The hook repository is a committed copy of this working tree as it is (tracked files and new files git
does not ignore). ``try-repo`` on the working tree itself would build its shadow clone from HEAD plus the
modified tracked files only, so a new, not yet committed module would be missing from what it installs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
BAD = """\
name: train
inputs:
- {name: lr, type: Float}
implementation:
  container:
    image: hydra-vertex-trainer
    command: [trainer]
    args:
    - --lr
    - {inputValue: lr}
"""
GOOD = BAD.replace(
    "    - --lr\n    - {inputValue: lr}\n", "    - model.optimizer.lr={{$.inputs.parameters['lr']}}\n"
)
# the hook's environment has no `trainer` installed: the consumer declares it a Hydra app
CONSUMER_PYPROJECT = '[tool.hydra-yaml-lint]\nhydra-programs = ["trainer"]\n'
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


def _git(*args: str, cwd: Path) -> str:
    result = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV},
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


def _commit_all(repository: Path) -> None:
    _git("init", "-q", cwd=repository)
    _git("add", "-A", cwd=repository)
    _git("commit", "-q", "-m", "snapshot", cwd=repository)


def _working_tree_copy(destination: Path) -> Path:
    """A git repository holding this working tree's files as they are, committed."""
    try:
        listed = _git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=REPO_ROOT)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: nothing to install the hook from")
    for name in sorted(set(filter(None, listed.split("\0")))):
        source = REPO_ROOT / name
        if source.is_file() or source.is_symlink():  # a tracked file deleted in the working tree is gone
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name, follow_symlinks=False)
    _commit_all(destination)
    return destination


def _try_repo(hook_repository: Path, consumer: Path, *files: str) -> tuple[int, str]:
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(consumer.parent / "pre-commit-home")}
    env.pop("HYDRA_FULL_ERROR", None)
    command = [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repository), "hydra-yaml-lint"]
    result = subprocess.run(
        [*command, "--files", *files], cwd=consumer, env=env, capture_output=True, text=True, timeout=300
    )
    output = result.stdout + result.stderr
    assert "An unexpected error has occurred" not in output, (
        "pre-commit could not install the hook: for a `language: python` hook it runs `pip install .` at "
        "the repository root, which the root setup.py makes install packages/hydra-yaml-lint (see that "
        "package's README, 'Hook repository')\n" + output
    )
    return result.returncode, output


@pytest.mark.slow
def test_pre_commit_installs_and_runs_the_published_hook(tmp_path: Path) -> None:
    assert shutil.which("git"), "pre-commit needs git"
    hook_repository = _working_tree_copy(tmp_path / "hook-repo")
    consumer = tmp_path / "consumer"
    (consumer / "components").mkdir(parents=True)
    (consumer / "components" / "bad.yaml").write_text(BAD)
    (consumer / "components" / "good.yaml").write_text(GOOD)
    (consumer / "pyproject.toml").write_text(CONSUMER_PYPROJECT)
    _commit_all(consumer)

    status, output = _try_repo(hook_repository, consumer, "components/bad.yaml", "components/good.yaml")
    assert status == 1 and "hydra-yaml-lint" in output and "Failed" in output, output
    assert (
        "components/bad.yaml:9:7: HY001 argparse-style flag '--lr' is not a Hydra override; use 'lr=...'"
        in output
    ), output
    assert "good.yaml" not in output, output

    status, output = _try_repo(hook_repository, consumer, "components/good.yaml")
    assert status == 0 and "Passed" in output, output
