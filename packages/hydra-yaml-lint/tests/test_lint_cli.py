"""The console script, run as a subprocess: exit codes, output formats, --fix/--diff, error paths."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

BAD = textwrap.dedent(
    """\
    # a comment that must survive --fix
    name: train
    inputs:
    - {name: epochs, type: Integer}
    - {name: dataset, type: Dataset}
    outputs:
    - {name: model, type: Model}
    implementation:
      container:
        image: trainer:0.1.0
        command: [trainer]
        args:
        - --epochs   # from the Vertex docs
        - {inputValue: epochs}
        - 'data.data_dir={{$.inputs.artifacts["dataset"].path}}'
        - paths.output_dir={{$.inputs.artifacts['model'].path}}
        - fit
    """
)


FIXABLE = BAD.replace("    - fit\n", "")  # every argument can be rewritten


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A directory whose pyproject turns program discovery off (no installed app is consulted) and
    declares the components' program, ``trainer``, a Hydra app."""
    (tmp_path / "pyproject.toml").write_text(
        '[tool.hydra-yaml-lint]\ndiscover-configs = false\nhydra-programs = ["trainer"]\n'
    )
    (tmp_path / "bad.yaml").write_text(BAD)
    (tmp_path / "fixable.yaml").write_text(FIXABLE)
    return tmp_path


def test_version(cli) -> None:
    result = cli("--version")
    assert (result.returncode, result.stdout, result.stderr) == (0, "hydra-yaml-lint 0.1.0\n", "")


def test_text_output_and_exit_1(cli, project: Path) -> None:
    result = cli("bad.yaml", cwd=project)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "bad.yaml:13:7: HY001 argparse-style flag '--epochs' is not a Hydra override; use 'epochs=...'",
        "bad.yaml:15:22: HY101 placeholder name written [\"dataset\"]; KFP resolves only ['dataset']",
        "bad.yaml:16:24: HY104 'model' is an output but is referenced under $.inputs",
        "bad.yaml:17:7: HY002 positional argument 'fit' is not a Hydra override (key=value)",
    ]
    # `fit` cannot be rewritten, so neither is `--epochs` (all or nothing per argument list)
    assert result.stderr == "4 problem(s); 2 fixable with --fix\n"


def test_clean_file_exits_0(cli, project: Path) -> None:
    (project / "bad.yaml").unlink()
    (project / "fixable.yaml").unlink()
    (project / "good.yaml").write_text(BAD.replace("  - fit\n", "").split("    args:")[0] + "    args: []\n")
    result = cli(".", "--ignore", "unused-input", cwd=project)
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr == "All checks passed: 1 file(s), 1 component(s)\n"  # `hatch run lint` says so


def test_exit_zero(cli, project: Path) -> None:
    result = cli("bad.yaml", "--exit-zero", cwd=project)
    assert result.returncode == 0 and result.stdout.count("\n") == 4


def test_json_output(cli, project: Path) -> None:
    result = cli("fixable.yaml", "--format", "json", cwd=project)
    assert result.returncode == 1
    items = json.loads(result.stdout)
    assert {"path", "line", "column", "code", "name", "severity", "message"} <= set(items[0])
    argparse_item = items[0]
    assert (argparse_item["code"], argparse_item["line"], argparse_item["column"]) == ("HY001", 13, 7)
    fix = argparse_item["fix"]
    assert fix["applicability"] == "safe"
    assert fix["edits"][0]["start"] == {"line": 13, "column": 7, "offset": BAD.index("--epochs")}
    assert fix["edits"][0]["content"] == "epochs={{$.inputs.parameters['epochs']}}"  # the comment stays put
    blocked = json.loads(cli("bad.yaml", "--format", "json", cwd=project).stdout)
    assert [item["code"] for item in blocked if "fix" not in item] == ["HY001", "HY002"]  # `fit` has none


def test_github_output(cli, project: Path) -> None:
    result = cli("bad.yaml", "--format", "github", "--select", "HY104", cwd=project)
    assert result.stdout == (
        "::error file=bad.yaml,line=16,col=24,title=HY104 wrong-direction::"
        "HY104 'model' is an output but is referenced under $.inputs\n"
    )


def test_sarif_output(cli, project: Path) -> None:
    result = cli("bad.yaml", "--format", "sarif", cwd=project)
    log = json.loads(result.stdout)
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    assert {rule["id"] for rule in run["tool"]["driver"]["rules"]} >= {"HY001", "HY301"}
    first = run["results"][0]
    assert first["ruleId"] == "HY001" and first["level"] == "error"
    assert first["locations"][0]["physicalLocation"]["region"] == {"startLine": 13, "startColumn": 7}


def test_diff_writes_nothing(cli, project: Path) -> None:
    result = cli("fixable.yaml", "--diff", cwd=project)
    assert result.returncode == 1
    assert (project / "fixable.yaml").read_text() == FIXABLE
    assert "-    - --epochs   # from the Vertex docs\n" in result.stdout
    assert "+    - paths.output_dir={{$.outputs.artifacts['model'].path}}\n" in result.stdout


def test_fix_edits_only_the_offending_spans(cli, project: Path) -> None:
    result = cli("fixable.yaml", "--fix", cwd=project)
    assert (result.returncode, result.stdout) == (0, "")
    fixed = (project / "fixable.yaml").read_text()
    expected = (
        FIXABLE.replace(
            "    - --epochs   # from the Vertex docs\n    - {inputValue: epochs}\n",
            "    - epochs={{$.inputs.parameters['epochs']}}   # from the Vertex docs\n",
        )
        .replace('["dataset"]', "[''dataset'']")
        .replace("$.inputs.artifacts['model']", "$.outputs.artifacts['model']")
    )
    assert fixed == expected
    assert (project / "fixable.yaml").stat().st_mode & 0o777 == 0o644  # the file keeps its mode
    again = cli("fixable.yaml", "--fix", cwd=project)
    assert (project / "fixable.yaml").read_text() == fixed and again.returncode == 0


def test_fix_through_a_symlink_fixes_the_file_it_names_and_keeps_the_link(cli, project: Path) -> None:
    (project / "real").mkdir()
    (project / "fixable.yaml").rename(project / "real" / "fixable.yaml")
    (project / "fixable.yaml").symlink_to(project / "real" / "fixable.yaml")
    result = cli("fixable.yaml", "--fix", cwd=project)
    assert result.returncode == 0, result.stderr
    assert (project / "fixable.yaml").is_symlink()
    assert "epochs={{$.inputs.parameters['epochs']}}" in (project / "real" / "fixable.yaml").read_text()


def test_argument_list_is_fixed_all_or_nothing(cli, project: Path) -> None:
    result = cli("bad.yaml", "--fix", cwd=project)
    assert result.returncode == 1
    fixed = (project / "bad.yaml").read_text()
    # `fit` has no fix, so `--epochs` stays too: a half-converted list is neither argparse nor Hydra
    assert fixed == BAD.replace('["dataset"]', "[''dataset'']").replace(
        "$.inputs.artifacts['model']", "$.outputs.artifacts['model']"
    )
    assert result.stdout.splitlines() == [
        "bad.yaml:13:7: HY001 argparse-style flag '--epochs' is not a Hydra override; use 'epochs=...'",
        "bad.yaml:17:7: HY002 positional argument 'fit' is not a Hydra override (key=value)",
    ]


def test_unsafe_fixes_need_the_flag(cli, project: Path) -> None:
    (project / "dashed.yaml").write_text(
        "name: t\ninputs:\n- {name: learning_rate, type: Float}\nimplementation:\n  container:\n"
        "    command: [trainer]\n    args: [--learning-rate, {inputValue: learning_rate}]\n"
    )
    assert cli("dashed.yaml", "--fix", cwd=project).returncode == 1
    assert "--learning-rate" in (project / "dashed.yaml").read_text()
    assert cli("dashed.yaml", "--fix", "--unsafe-fixes", cwd=project).returncode == 0
    assert (
        "args: [\"learning_rate={{$.inputs.parameters['learning_rate']}}\"]"
        in (project / "dashed.yaml").read_text()
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.yaml"], "hydra-yaml-lint: missing.yaml: no such file or directory\n"),
        (
            ["bad.yaml", "--select", "HY999"],
            "hydra-yaml-lint: unknown rule code or name 'HY999' (see --list-rules)\n",
        ),
        (["bad.yaml", "--format", "xml"], None),
        (
            ["bad.yaml", "--diff", "--format", "json"],
            "hydra-yaml-lint: --diff prints a text diff; it cannot be combined with --format\n",
        ),
        (["bad.yaml", "--config", "nope.toml"], "hydra-yaml-lint: nope.toml: no such config file\n"),
    ],
)
def test_usage_errors_exit_2_with_one_line(cli, project: Path, args: list[str], message: str | None) -> None:
    result = cli(*args, cwd=project)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    if message is not None:
        assert result.stderr == message


def test_invalid_pyproject_exits_2(cli, project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.hydra-yaml-lint\n")
    result = cli("bad.yaml", cwd=project)
    assert result.returncode == 2
    assert result.stderr.startswith("hydra-yaml-lint: ") and "invalid TOML" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_garbage_files_are_diagnostics_not_tracebacks(cli, project: Path) -> None:
    (project / "binary.yaml").write_bytes(b"\x00\x01\x02\xff" * 100)
    (project / "latin1.yaml").write_bytes("name: caf\xe9\n".encode("latin-1"))
    (project / "deep.yaml").write_text("[" * 20000 + "]" * 20000)
    (project / "broken.yaml").write_text("implementation: {container: [\n")
    result = cli("binary.yaml", "latin1.yaml", "deep.yaml", "broken.yaml", cwd=project)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "binary.yaml:1:1: HY900 binary file, not YAML text"
    assert lines[1] == "latin1.yaml:1:1: HY900 not UTF-8 text (byte 9)"
    assert lines[2].startswith("deep.yaml:") and " HY900 invalid YAML" in lines[2]
    assert lines[3].startswith("broken.yaml:2:1: HY900 invalid YAML")


def test_list_rules_and_explain(cli) -> None:
    listing = cli("--list-rules").stdout
    assert "HY301  unknown-config-key" in listing and "HY401  unused-input           warning" in listing
    explained = cli("--explain", "wrong-direction")
    assert explained.returncode == 0 and explained.stdout.startswith("HY104 wrong-direction:")
    assert cli("--explain", "HY999").returncode == 2
