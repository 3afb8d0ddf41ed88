"""Every rule's documentation (its module's docstring, printed by ``--explain``) follows ruff's rule docs:
a summary line, then "What it does", "Why is this bad?", "Example", "Use instead:" and "Fix safety". The
examples are linted: the example must trigger the rule, the one to use instead must be clean, and the
fix safety section must say "no fix" exactly when the rule offers none for its example."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import hydra_yaml_lint.rules as rules_package
from hydra_yaml_lint import Settings, lint_text
from hydra_yaml_lint.cli import main
from hydra_yaml_lint.rules import ALL_RULES, DOCS
from hydra_yaml_lint.settings import ComponentConfig

SECTIONS = ("## What it does\n", "## Why is this bad?\n", "## Example\n", "Use instead:\n", "## Fix safety\n")
_YAML_BLOCK = re.compile(r"```yaml\n(.*?)```", re.DOTALL)
RULE_MODULES = sorted(
    info.name for info in pkgutil.iter_modules(rules_package.__path__) if not info.name.startswith("_")
)


def _sections(doc: str) -> dict[str, str]:
    """The text under each heading of ``SECTIONS`` (which must all be there, in that order)."""
    positions = [doc.find(heading) for heading in SECTIONS]
    assert -1 not in positions and positions == sorted(positions), f"sections missing or out of order: {doc}"
    ends = [*positions[1:], len(doc)]
    return {
        heading.strip(): doc[start + len(heading) : end].strip()
        for heading, start, end in zip(SECTIONS, positions, ends, strict=True)
    }


@pytest.mark.parametrize("module_name", RULE_MODULES)
def test_every_rule_module_has_ruff_style_docs(module_name: str) -> None:
    module = importlib.import_module(f"hydra_yaml_lint.rules.{module_name}")
    rule = module.RULE
    assert ALL_RULES[rule.code] is rule, f"{module_name} is not in the registry"
    doc = (module.__doc__ or "").strip()
    assert doc.splitlines()[0].startswith(f"{rule.code} {rule.name}")
    sections = _sections(doc)
    assert all(sections.values()), f"{rule.code}: an empty section"
    assert len(_YAML_BLOCK.findall(sections["## Example"])) == 1
    assert len(_YAML_BLOCK.findall(sections["Use instead:"])) == 1
    assert "fix" in sections["## Fix safety"].lower()
    assert DOCS[rule.code] == doc


def test_every_rule_is_documented_and_explained(capsys: pytest.CaptureFixture[str]) -> None:
    assert set(DOCS) == set(ALL_RULES)
    for code, info in ALL_RULES.items():
        assert main(["--explain", info.name]) == 0
        assert capsys.readouterr().out == DOCS[code] + "\n"


@pytest.mark.parametrize("code", sorted(DOCS))
def test_the_examples_do_what_the_docs_say(code: str, hydra_app: Path, tmp_path: Path) -> None:
    sections = _sections(DOCS[code])
    [bad] = _YAML_BLOCK.findall(sections["## Example"])
    [good] = _YAML_BLOCK.findall(sections["Use instead:"])
    # the examples run `trainer`, here the fixture's Hydra app with groups data, model, experiment
    settings = Settings(
        root=tmp_path,
        hydra_programs=["trainer"],
        components=[("*.yaml", ComponentConfig("train", config_dir=hydra_app / "toyapp" / "conf"))],
    )
    path = tmp_path / "component.yaml"
    found = [d for d in lint_text(bad, "component.yaml", settings=settings, path=path) if d.code == code]
    assert found, f"{code}'s example does not trigger it"
    assert lint_text(good, "component.yaml", settings=settings, path=path) == []
    says_no_fix = sections["## Fix safety"].startswith("There is no fix")
    assert says_no_fix == all(d.fix is None for d in found), f"{code}: the fix safety section is wrong"
