"""docs/vertex.md stays true: its commands are read from the page and run through the real CLIs.

The rule is the one the guide states at its top:
- ```bash blocks: offline commands (``pipeline-sdk …`` / ``hatch run …``), each run as written;
- ```bash slow blocks: offline but training, run by the slow test;
- ```bash cloud blocks: not run, but every ``pipeline-sdk`` option in them must exist in that command's
  ``--help`` and their config overrides must compile.
``export NAME=value`` lines of the guide (without command substitution) define the variables the commands
use. Commands run against a sandbox copy of ``configs/`` (so nothing is written into the repository) and
with Application Default Credentials made of a freshly generated service-account key whose token endpoint
is a loopback fake server, which also serves Cloud Storage: a command that needs credentials gets them
from the fake, and one that tried to submit would be seen there. The block parsing, the sandbox and the
fakes are shared with test_docs_commands.py through the ``docs_kit`` fixture (tests/conftest.py).
"""

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
GUIDE = REPO_ROOT / "docs" / "vertex.md"
#: the guide must keep at least this many commands the test runs, so it cannot pass on nothing
MIN_OFFLINE_COMMANDS = 6
_FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_EXPORT = re.compile(r"^export [A-Za-z_]\w*=\S")


def exports(commands: list[Any]) -> str:
    """The guide's plain ``export NAME=value`` lines, as a shell prelude."""
    return "\n".join(c.text for c in commands if _EXPORT.match(c.text) and "$(" not in c.text)


@pytest.fixture(scope="module")
def commands(docs_kit: Any) -> list[Any]:
    """Every command of the guide's bash blocks (``docs_kit``: tests/conftest.py)."""
    return [
        command
        for block in docs_kit.fenced_blocks(GUIDE)
        if block.kind.startswith("bash")
        for command in block.commands()
    ]


@pytest.fixture(scope="module")
def fake_google(docs_kit: Any) -> Any:
    return docs_kit.fake_google


@pytest.fixture(scope="module")
def sandbox(docs_kit: Any, commands: list[Any]) -> Any:
    """A repository stand-in (copied configs/, linked packages/) and a hermetic environment."""
    return docs_kit.sandbox("guide", exports(commands))


def _by_kind(commands: list[Any], kind: str) -> list[Any]:
    return [c for c in commands if c.kind == kind]


def _run_all(sandbox: Any, commands: list[Any]) -> list[tuple[Any, Any]]:
    with ThreadPoolExecutor(max_workers=3) as pool:  # each CLI start imports kfp/aiplatform: overlap them
        return list(zip(commands, pool.map(sandbox.run, commands), strict=True))


# --- tests ----------------------------------------------------------------------------------------------


def test_guide_blocks_follow_the_stated_rule(commands: list[Any]) -> None:
    kinds = {c.kind for c in commands}
    assert kinds <= {"bash", "bash slow", "bash cloud"}, f"unknown block kinds in docs/vertex.md: {kinds}"
    offline = _by_kind(commands, "bash") + _by_kind(commands, "bash slow")
    wrong = [str(c) for c in offline if not c.text.startswith(("pipeline-sdk ", "hatch run "))]
    assert not wrong, "offline blocks may only hold pipeline-sdk / hatch run commands:\n" + "\n".join(wrong)
    assert len(_by_kind(commands, "bash")) >= MIN_OFFLINE_COMMANDS
    assert exports(commands), "the guide defines its variables with export lines"


def test_offline_commands_run_as_written(
    docs_kit: Any, sandbox: Any, fake_google: Any, commands: list[Any]
) -> None:
    offline = _by_kind(commands, "bash")
    failures = [docs_kit.command_problem(command, result) for command, result in _run_all(sandbox, offline)]
    assert not any(failures), "\n\n".join(f for f in failures if f)
    assert not fake_google.beyond_token(), f"an offline command reached a service: {fake_google.requests}"


def test_cloud_commands_use_real_options_and_keys(docs_kit: Any, sandbox: Any, commands: list[Any]) -> None:
    """Commands that need the cloud are not run, but their pipeline-sdk options and overrides are checked."""
    variables = sandbox.variables()
    lines = [
        (command, line)
        for command in _by_kind(commands, "bash cloud")
        for line in docs_kit.without_hatch(command.text).splitlines()
        if line.startswith("pipeline-sdk ")
    ]
    with ThreadPoolExecutor(max_workers=3) as pool:  # each check starts pipeline-sdk twice
        found = list(pool.map(lambda pair: sandbox.option_problems(variables, *pair), lines))
    failures = [problem for problems in found for problem in problems]
    assert not failures, "\n\n".join(failures)
    assert len(lines) >= 4, "the guide's cloud blocks should hold its submit / build-images commands"


def _anchors(markdown: str) -> set[str]:
    """GitHub's anchors for the headings of ``markdown``."""
    headings = re.findall(r"^#{1,6} (.+)$", _FENCE.sub("", markdown), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_permission_hints_match_the_iam_section() -> None:
    """Every role pipeline-sdk's error messages tell a user to grant is explained in the guide's IAM
    section, and every link from the code into the guide lands on a heading."""
    guide = GUIDE.read_text()
    iam = guide.split("\n## 2. IAM\n", 1)[1].split("\n## ", 1)[0]
    sources = "\n".join(
        p.read_text() for p in (REPO_ROOT / "packages" / "pipeline-sdk" / "src").rglob("*.py")
    )
    roles = set(re.findall(r"roles/[A-Za-z.]+[A-Za-z]", sources))
    assert roles, "pipeline-sdk's messages name the roles to grant"
    missing = sorted(r for r in roles if r not in iam)
    assert not missing, f"roles pipeline-sdk's messages name but the guide's IAM section does not: {missing}"
    links = set(re.findall(r"docs/vertex\.md#([\w-]+)", sources))
    assert links <= _anchors(guide), f"links into docs/vertex.md without a heading: {links - _anchors(guide)}"


def _has_key(node: object, path: list[str]) -> bool:
    """Whether ``path`` names a key of the config tree ``node``; ``STEP`` and ``*`` match any key."""
    if not path:
        return True
    if not isinstance(node, dict):
        return False
    if path[0] in ("STEP", "*"):
        return any(_has_key(child, path[1:]) for child in node.values())
    return path[0] in node and _has_key(node[path[0]], path[1:])


def test_config_keys_in_the_prose_exist() -> None:
    """Dotted config keys quoted in the guide's text (`steps.train.retries`, `gcp.*`) are keys of
    pipeline-sdk's configuration (configs/pipeline.yaml with the schema's optional step settings), so the
    prose cannot drift from the config the commands are checked against."""
    from omegaconf import OmegaConf

    from pipeline_sdk.config import load_config

    config = OmegaConf.to_container(load_config([], str(REPO_ROOT / "configs")), resolve=False)
    prose = _FENCE.sub("", GUIDE.read_text())
    quoted = [
        key
        for span in re.findall(r"`([^`\n]+)`", prose)
        for key, assigned in re.findall(r"(?<![\w./@-])([a-z_]+(?:\.(?:[\w-]+|\*))+)(\s*[=:])?", span)
        # a bare dotted name is a key if it starts with a top-level key; `a.b=...` / `a.b: ...` always is
        if (assigned or key.split(".", 1)[0] in config) and not key.endswith((".json", ".yaml", ".py"))
    ]
    assert len(quoted) >= 10, "the guide names the config keys it relies on"
    unknown = sorted({key for key in quoted if not _has_key(config, key.split("."))})
    assert not unknown, (
        f"config keys named in docs/vertex.md that pipeline-sdk's configuration lacks: {unknown}"
    )


def test_guide_links_land_on_headings() -> None:
    guide = GUIDE.read_text()
    broken = set(re.findall(r"\]\(#([\w-]+)\)", guide)) - _anchors(guide)
    assert not broken, f"links to missing headings in docs/vertex.md: {sorted(broken)}"


@pytest.mark.slow
def test_slow_commands_run_as_written(sandbox: Any, commands: list[Any]) -> None:
    slow = _by_kind(commands, "bash slow")
    assert slow
    for command in slow:
        result = sandbox.run(command, timeout=900)
        assert result.returncode == 0, f"{command}\n{result.stderr[-3000:]}"
        assert "Traceback" not in result.stderr
