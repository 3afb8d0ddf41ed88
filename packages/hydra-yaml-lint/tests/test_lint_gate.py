"""The Hydra gate: which components get the Hydra rules (declared, discovered, by intent) and which
get the KFP rules only; how ``command`` + ``args`` are read as one argv; the summary line on stderr."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from hydra_yaml_lint import Settings, lint_paths, lint_text
from hydra_yaml_lint.component_reader import read_components
from hydra_yaml_lint.gate import hydra_verdict
from hydra_yaml_lint.program import read_program
from hydra_yaml_lint.yamlsource import SourceText

CORPUS = Path(__file__).parent / "corpus"


@pytest.mark.parametrize(
    ("argv", "kind", "name", "start"),
    [
        (["trainer", "a=1"], "console-script", "trainer", 1),
        (["/usr/local/bin/trainer", "a=1"], "console-script", "trainer", 1),
        (["python", "-m", "app.cli", "a=1"], "module", "app.cli", 3),
        (["python3", "-u", "-X", "dev", "-W", "ignore", "-m", "app.cli"], "module", "app.cli", 8),
        (["python3.11", "-uB", "-Xdev", "-mapp.cli", "a=1"], "module", "app.cli", 4),
        (["python3", "-u", "src/train.py", "--lr", "1"], "script", "src/train.py", 3),
        (["python", "--check-hash-based-pycs", "never", "main.py"], "script", "main.py", 4),
        (["python"], "inline-code", None, 1),
        (["python3", "-u", "-c", "print(1)", "--x"], "inline-code", None, 5),
        (["sh", "-ec", "echo $0", "--x"], "shell", "sh", 4),
        (["/bin/bash", "./run.sh", "-s", "x"], "shell", "bash", 4),
        (["env", "A=1", "-u", "B", "trainer", "x=1"], "console-script", "trainer", 5),
        (
            ["poetry", "run", "python", "/component/src/trainer.py", "x"],
            "script",
            "/component/src/trainer.py",
            4,
        ),
        (["uv", "run", "trainer", "x=1"], "console-script", "trainer", 3),
        (["git", "clone", "x"], "ordinary", "git", 3),
        (["gsutil", "cp", "a", "b"], "ordinary", "gsutil", 4),
        (["/bin/deploy.sh", "--x"], "ordinary", "deploy.sh", 2),
        (["./train.py", "a=1"], "script", "./train.py", 1),
        (["{{$.inputs.parameters['entrypoint']}}", "--x"], "none", None, 2),
        (["--executor_input", "{{$}}"], "kfp-python", None, 2),
        (["sh", "-c", "python3 -m kfp.dsl.executor_main"], "kfp-python", None, 3),
        (["python3", "-u", "x.py", "----output-paths", "/tmp/o"], "kfp-python", None, 5),
    ],
)
def test_argv_is_read_as_one(argv: list[str], kind: str, name: str | None, start: int) -> None:
    program = read_program(argv)
    assert (program.kind, program.name, program.start) == (kind, name, start)


def test_no_command_means_the_entrypoint_reads_every_arg() -> None:
    program = read_program(["a=1", "b=2"], command_length=0)
    assert (program.kind, program.start) == ("entrypoint", 0)


def _component_text(command: str, args: list[str], inputs: str = "") -> str:
    lines = [
        "name: train",
        "inputs:",
        "- {name: lr, type: Float}",
        "- {name: dataset, type: Dataset}",
        inputs,
        "implementation:",
        "  container:",
        "    image: i",
        f"    command: {command}",
        "    args:",
        *(f"    - {arg}" for arg in args),
    ]
    return "\n".join(line for line in lines if line) + "\n"


def _verdict(text: str, settings: Settings, path: Path) -> tuple[bool, str]:
    [component] = read_components(SourceText.parse(text), str(path))
    verdict = hydra_verdict(component, settings, path)
    return verdict.is_hydra, verdict.reason


ARGPARSE = ["--lr", "{inputValue: lr}", "--data", "{inputPath: dataset}"]
OFFLINE = Settings(discover_configs=False)


def test_an_argparse_program_is_not_flagged(tmp_path: Path) -> None:
    text = _component_text("[python3, train.py]", ARGPARSE)
    assert _verdict(text, OFFLINE, tmp_path / "c.yaml") == (False, "train.py is not known to be a Hydra app")
    assert lint_text(text, "c.yaml", settings=OFFLINE) == []


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        (
            Settings(discover_configs=False, hydra_programs=["train.py"]),
            "src/train.py declared in hydra-programs",
        ),
        (
            Settings(discover_configs=False, hydra_programs=["src/*.py"]),
            "src/train.py declared in hydra-programs",
        ),
        (
            Settings(discover_configs=False, hydra_components=["components/*.yaml"]),
            "declared in hydra-components",
        ),
    ],
)
def test_declared_hydra_apps_get_the_hydra_rules(tmp_path: Path, settings: Settings, reason: str) -> None:
    settings.root = tmp_path
    path = tmp_path / "components" / "c.yaml"
    text = _component_text("[python3, src/train.py]", ARGPARSE)
    assert _verdict(text, settings, path) == (True, reason)
    codes = [d.code for d in lint_text(text, str(path), settings=settings, path=path)]
    assert codes == ["HY001", "HY001"]


def test_declared_python_module(tmp_path: Path) -> None:
    settings = Settings(discover_configs=False, hydra_programs=["python -m app.train"])
    text = _component_text("[python, -u, -m, app.train]", ARGPARSE)
    assert _verdict(text, settings, tmp_path / "c.yaml")[0]


def test_by_intent_an_override_with_a_placeholder_makes_it_hydra(tmp_path: Path) -> None:
    args = ["'data.dir={{$.inputs.artifacts[''dataset''].path}}'", "--lr", "{inputValue: lr}"]
    text = _component_text("[python3, main.py]", args)
    assert _verdict(text, OFFLINE, tmp_path / "c.yaml") == (True, "its arguments are Hydra overrides")
    [diagnostic] = lint_text(text, "c.yaml", settings=OFFLINE)
    assert diagnostic.code == "HY001" and diagnostic.fix is not None and diagnostic.fix.safe


def test_an_override_without_a_placeholder_is_no_intent(tmp_path: Path) -> None:
    text = _component_text("[python3, main.py]", ["mode=train", "--lr", "{inputValue: lr}"])
    assert not _verdict(text, OFFLINE, tmp_path / "c.yaml")[0]


@pytest.mark.parametrize(
    "command",
    [
        "[sh, -c, 'python3 main.py \"$@\"', --]",
        "[bash, -exc, 'x']",
        "[python3, -u, -c, 'import sys']",
        "[gsutil, cp]",
        "[git, clone]",
    ],
)
def test_shells_code_and_ordinary_programs_are_never_hydra(tmp_path: Path, command: str) -> None:
    settings = Settings(discover_configs=False, hydra_components=["*.yaml"], root=tmp_path)
    args = ["data.dir={{$.inputs.artifacts['dataset'].path}}", *ARGPARSE]
    text = _component_text(command, args)
    assert not _verdict(text, settings, tmp_path / "c.yaml")[0]
    assert not {d.code for d in lint_text(text, "c.yaml", settings=settings)} & {"HY001", "HY002", "HY201"}


def _repository(root: Path, script: str, decorated: bool) -> Path:
    """A repository with ``src/train.py`` (a Hydra app with ``conf/train.yaml`` when ``decorated``)."""
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (root / "conf").mkdir(parents=True)
    (root / "conf" / "train.yaml").write_text("trainer:\n  max_epochs: 3\nlr: 0.1\n")
    body = "def main(cfg):\n    pass\n"
    if decorated:
        body = (
            "import hydra\n\n@hydra.main(config_path='../conf', config_name='train', version_base='1.3')\n"
            + body
        )
    (root / "src").mkdir()
    (root / "src" / script).write_text(body)
    components = root / "configs" / "components"
    components.mkdir(parents=True)
    return components


def test_a_script_path_is_found_from_the_component_up_to_the_repository_root(tmp_path: Path) -> None:
    components = _repository(tmp_path, "train.py", decorated=True)
    component = components / "train.yaml"
    component.write_text(_component_text("[python3, -u, src/train.py]", ["trainer.max_epoch=1", *ARGPARSE]))
    assert _verdict(component.read_text(), Settings(), component) == (
        True,
        "src/train.py (train.py) calls hydra.main",
    )
    found = [f"{d.code} {d.message}" for d in lint_paths([component], config=Settings())]
    assert found == [
        "HY301 unknown config key 'trainer.max_epoch' (did you mean 'trainer.max_epochs'?); "
        "to add a new key write '+trainer.max_epoch=...'",
        "HY001 argparse-style flag '--lr' is not a Hydra override; use 'lr=...'",
        "HY001 argparse-style flag '--data' is not a Hydra override; use 'data=...'",
    ]


def test_a_found_script_without_hydra_main_is_not_hydra(tmp_path: Path) -> None:
    components = _repository(tmp_path, "train.py", decorated=False)
    component = components / "train.yaml"
    component.write_text(_component_text("[python3, src/train.py]", ["x.y={{$.inputs.parameters['lr']}}"]))
    assert _verdict(component.read_text(), Settings(), component) == (
        False,
        "src/train.py (train.py) does not call hydra.main",
    )


def test_a_directly_called_hydra_main_counts(hydra_app: Path, tmp_path: Path) -> None:
    (hydra_app / "toyapp" / "direct.py").write_text(
        "def _app(cfg):\n    pass\n\ndef main():\n    import hydra\n"
        "    hydra.main(config_path='conf', config_name='train', version_base='1.3')(_app)()\n"
    )
    text = _component_text("[python, -m, toyapp.direct]", ARGPARSE)
    assert _verdict(text, Settings(), tmp_path / "c.yaml")[0]


def test_real_seed_component_mistakes_are_caught_through_discovery(tmp_path: Path) -> None:
    """The jxpress sample (tests/corpus), with the mistakes its README teaches: its program, src/train.py,
    is found beside it, so it is a Hydra app without any declaration."""
    original = CORPUS / "jxpress" / "hydra-vertex-ai-pipeline" / "configs" / "components" / "train.yaml"
    text = original.read_text()
    broken = text.replace(
        "\"experiment={{$.inputs.parameters['experiment']}}\",",
        "'experiment={{$.inputs.parameters[\"experiment\"]}}', --seed, {inputValue: experiment},",
    ).replace(
        "callbacks.model_checkpoint.dirpath={{$.outputs.artifacts['model'].path}}",
        "callbacks.model_checkpoint.dirpath={{$.inputs.artifacts['model'].path}}",
    )
    assert broken.count("\n") == text.count("\n")
    codes = sorted(d.code for d in lint_text(broken, "train.yaml", settings=Settings(), path=original))
    assert codes == ["HY001", "HY101", "HY104"]


def _cli_project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.hydra-yaml-lint]\ndiscover-configs = false\n")
    (tmp_path / "argparse.yaml").write_text(_component_text("[python3, train.py]", ARGPARSE))
    (tmp_path / "shell.yaml").write_text(
        _component_text("[sh, -c, 'echo $0 $1', {inputValue: lr}, {inputPath: dataset}]", [])
    )
    (tmp_path / "hydra.yaml").write_text(
        _component_text(
            "[trainer]", ["lr={{$.inputs.parameters['lr']}}", "data={{$.inputs.artifacts['dataset'].path}}"]
        )
    )
    return tmp_path


def test_one_summary_line_on_stderr_and_unchanged_json(cli, tmp_path: Path) -> None:
    project = _cli_project(tmp_path)
    text = cli(".", cwd=project)
    assert (text.returncode, text.stdout) == (0, "")
    assert text.stderr == (  # the shell script is known not to be a Hydra app: not counted
        "hydra-yaml-lint: 1 of 3 component(s) run a program not known to be a Hydra app and got the KFP "
        "rules only; to check Hydra apps whose program is not installed here, declare "
        'hydra-programs = ["<command>"] or hydra-components = ["<glob>"] under [tool.hydra-yaml-lint] '
        "in pyproject.toml\n"
        "All checks passed: 3 file(s), 3 component(s)\n"
    )
    as_json = cli(".", "--format", "json", cwd=project)
    assert json.loads(as_json.stdout) == [] and as_json.stderr == text.stderr.splitlines(keepends=True)[0]
    # no Hydra rule selected: nothing to say about programs
    assert cli(".", "--select", "HY1", cwd=project).stderr == "All checks passed: 3 file(s), 3 component(s)\n"
    (project / "pyproject.toml").write_text(
        '[tool.hydra-yaml-lint]\ndiscover-configs = false\nhydra-programs = ["train.py"]\n'
    )
    declared = cli(".", cwd=project)
    assert declared.returncode == 1 and declared.stdout.count("HY001") == 2
    assert declared.stderr == "2 problem(s); 1 fixable with --fix\n"  # nothing left unknown; one list fix


def test_settings_reject_bad_hydra_declarations(tmp_path: Path) -> None:
    from hydra_yaml_lint import LintError

    (tmp_path / "pyproject.toml").write_text("[tool.hydra-yaml-lint]\nhydra-programs = 'trainer'\n")
    (tmp_path / "c.yaml").write_text(textwrap.dedent(_component_text("[trainer]", [])))
    with pytest.raises(LintError, match="hydra-programs must be a list of strings"):
        lint_paths([tmp_path / "c.yaml"])
