"""The READMEs' examples run as written, so they cannot drift from the code (docs/vertex.md has its own test,
test_vertex_guide.py).

- Every ```bash and ```python block of the files in ``DOCS`` runs, unless the line right before its fence
  is a marker saying why not: ``<!-- docs-test: skip, REASON -->`` (Google Cloud, a cluster, Docker or a
  container builder, a GPU, the internet, installing packages, training longer than a 1-epoch example).
  A marker without a reason, or one that is not right before a fence, fails the build. The ``pipeline-sdk``
  lines of skipped blocks are still checked: every option exists in that command's ``--help`` and their
  config overrides compile.
- Other blocks (console transcripts, YAML/TOML/JSON, plain text) are illustrations and are not run.
- Each block runs in its own directory of a sandbox (``docs_kit``, tests/conftest.py) that stands in for the
  repository root the docs' commands are written for: a copy of ``configs/``, ``pyproject.toml`` and the
  image lock, ``packages/`` linked, ``/tmp/`` in a command pointed at the block's own ``tmp/``, Application
  Default Credentials from a loopback fake. Nothing is written into the repository, and no command may
  reach a service.
- A bash block's commands run in order (``hatch run NAME`` expanded from hatch.toml), stopping at the first
  failure; a ``submit --dry-run`` must print the JSON request. A python block runs as a script with this
  interpreter. A command that appears in an earlier block (the same words) runs once.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCS = [
    REPO_ROOT / "README.md",
    REPO_ROOT / "packages" / "pipeline-sdk" / "README.md",
    REPO_ROOT / "packages" / "data-prepare" / "README.md",
    REPO_ROOT / "packages" / "trainer" / "README.md",
    REPO_ROOT / "packages" / "select-best" / "README.md",
    REPO_ROOT / "packages" / "serve" / "README.md",
    REPO_ROOT / "packages" / "model-registry" / "README.md",
    REPO_ROOT / "benchmarks" / "README.md",
]
RUN_KINDS = ("bash", "python")
#: the READMEs must keep at least this many commands the test runs, so it cannot pass on nothing
MIN_COMMANDS_RUN = 20


def _blocks(docs_kit: Any) -> list[Any]:
    return [block for path in DOCS for block in docs_kit.fenced_blocks(path) if block.kind in RUN_KINDS]


def _words(command: str) -> tuple[str, ...]:
    """A command's words, without its comment: the same command in two blocks, commented differently."""
    return tuple(shlex.split(command, comments=True))


def _plan(blocks: list[Any]) -> list[tuple[Any, list[Any]]]:
    """Each runnable block with the commands it runs (a bash command seen in an earlier block runs once)."""
    seen: set[tuple[str, ...]] = set()
    plan = []
    for block in blocks:
        if block.skip is not None:
            continue
        if block.kind == "python":
            plan.append((block, []))
            continue
        commands = [c for c in block.commands() if _words(c.text) not in seen]
        seen.update(_words(c.text) for c in commands)
        if commands:
            plan.append((block, commands))
    return plan


def _stand_in(directory: Path) -> Path:
    """A directory laid out like the repository root, for commands written to run from there."""
    directory.mkdir()
    shutil.copytree(REPO_ROOT / "configs", directory / "configs")
    (directory / "packages").symlink_to(REPO_ROOT / "packages", target_is_directory=True)
    for name in ("pyproject.toml", "hatch.toml", "images.lock.json"):
        if (REPO_ROOT / name).is_file():
            shutil.copy(REPO_ROOT / name, directory / name)
    (directory / "tmp").mkdir()
    return directory


def _run_block(docs_kit: Any, runner: Any, block: Any, commands: list[Any]) -> list[str]:
    """Run one block in its own stand-in directory; the failures, as text."""
    cwd = _stand_in(runner.root / f"{Path(block.source).parent.name or 'root'}-{block.line}")
    private_tmp = f"{cwd}/tmp/"
    if block.kind == "python":
        script = cwd / "snippet.py"
        script.write_text(block.body.replace("/tmp/", private_tmp))
        result = subprocess.run(
            [sys.executable, str(script)],
            cwd=cwd,
            env=runner.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0:
            return [f"{block}\n  exit {result.returncode}\n  stderr: {result.stderr.strip()[-1500:]}"]
        return []
    for command in commands:
        rewritten = dataclasses.replace(command, text=command.text.replace("/tmp/", private_tmp))
        problem = docs_kit.command_problem(command, runner.run(rewritten, timeout=900, cwd=cwd))
        if problem:
            return [problem]
    return []


# --- tests ----------------------------------------------------------------------------------------------


def test_every_skip_marker_says_why_right_before_a_block(docs_kit: Any) -> None:
    stray = [problem for path in DOCS for problem in docs_kit.stray_markers(path)]
    assert not stray, (
        "a docs-test marker must be `<!-- docs-test: skip, REASON -->` on the line right before a fence:\n"
        + "\n".join(stray)
    )
    skipped = [block for block in _blocks(docs_kit) if block.skip is not None]
    assert all(block.skip.strip() for block in skipped)


def test_runnable_blocks_run_as_written(docs_kit: Any) -> None:
    plan = _plan(_blocks(docs_kit))
    assert sum(max(len(commands), 1) for _, commands in plan) >= MIN_COMMANDS_RUN
    sandbox = docs_kit.sandbox("docs")
    # the commands find configs/ from their working directory, as from the repository root
    env = {k: v for k, v in sandbox.env.items() if k != "PIPELINE_SDK_CONFIG_DIR"}
    runner = dataclasses.replace(sandbox, env=env)
    top_level_before = set(os.listdir(REPO_ROOT))
    with ThreadPoolExecutor(max_workers=2) as pool:  # two cores: a training block and the short ones overlap
        found = list(pool.map(lambda item: _run_block(docs_kit, runner, *item), plan))
    failures = [failure for failures in found for failure in failures]
    assert not failures, "\n\n".join(failures)
    assert not docs_kit.fake_google.beyond_token(), (
        f"a documented offline command reached a service: {docs_kit.fake_google.requests}"
    )
    assert set(os.listdir(REPO_ROOT)) <= top_level_before, "a command wrote into the repository"


def test_pipeline_sdk_lines_of_skipped_blocks_use_real_options_and_keys(docs_kit: Any) -> None:
    lines = [
        (command, line)
        for block in _blocks(docs_kit)
        if block.skip is not None and block.kind == "bash"
        for command in block.commands()
        for line in docs_kit.without_hatch(command.text).splitlines()
        if line.startswith("pipeline-sdk ")
    ]
    assert len(lines) >= 4, "the READMEs' skipped blocks hold their submit / publish commands"
    sandbox = docs_kit.sandbox("docs-skipped")
    with ThreadPoolExecutor(max_workers=2) as pool:  # each check starts pipeline-sdk twice
        found = list(pool.map(lambda pair: sandbox.option_problems({}, *pair), lines))
    failures = [problem for problems in found for problem in problems]
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_each_readme_has_blocks_the_test_sees(docs_kit: Any, path: Path) -> None:
    """The fence pattern still matches the file (a changed fence style would silently skip everything)."""
    assert [b for b in docs_kit.fenced_blocks(path) if b.kind in RUN_KINDS], f"{path}: no bash/python block"
