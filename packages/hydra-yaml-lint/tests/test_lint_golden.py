"""Golden files: ``golden/<rule>/<case>.yaml`` with ``<case>.expected.txt`` (the diagnostics),
``<case>.fixed.yaml`` (after safe fixes) and ``<case>.unsafe-fixed.yaml`` (after all fixes) when they
change the text. A ``pyproject.toml`` in the rule's directory configures its cases (e.g. a Hydra config
mapping); otherwise program discovery is off, so the cases do not depend on installed packages, and the
programs the cases run (``trainer``, ``data-prepare``, ``python -m trainer.cli``) are declared Hydra apps.

Regenerate after an intended change with ``HYDRA_YAML_LINT_UPDATE_GOLDEN=1 pytest ...`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hydra_yaml_lint import Settings, fix_text, lint_text
from hydra_yaml_lint.rules import ALL_RULES
from hydra_yaml_lint.settings import load_settings

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("HYDRA_YAML_LINT_UPDATE_GOLDEN") == "1"
CODES = frozenset(ALL_RULES)
DECLARED = Settings(discover_configs=False, hydra_programs=["trainer", "data-prepare", "trainer.cli"])
CASES = sorted(
    path for path in GOLDEN.glob("*/*.yaml") if not path.name.endswith((".fixed.yaml", ".unsafe-fixed.yaml"))
)


def _settings(case: Path) -> Settings:
    pyproject = case.parent / "pyproject.toml"
    if pyproject.exists():
        settings = load_settings(pyproject)
        assert settings is not None
        return settings
    return DECLARED


def _check(expected_path: Path, actual: str | None) -> None:
    if UPDATE:
        if actual is None:
            expected_path.unlink(missing_ok=True)
        else:
            expected_path.write_bytes(actual.encode("utf-8"))
        return
    if actual is None:
        assert not expected_path.exists(), f"{expected_path.name} exists but the fix changes nothing"
        return
    assert expected_path.exists(), f"missing {expected_path.name}; run with HYDRA_YAML_LINT_UPDATE_GOLDEN=1"
    assert actual == expected_path.read_bytes().decode("utf-8")


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.stem}" for c in CASES])
def test_golden(case: Path) -> None:
    text = case.read_bytes().decode("utf-8")
    display = f"{case.parent.name}/{case.name}"
    settings = _settings(case)
    kwargs = {"settings": settings, "codes": CODES, "path": case}

    diagnostics = lint_text(text, display, **kwargs)
    _check(case.with_name(f"{case.stem}.expected.txt"), "".join(f"{d}\n" for d in diagnostics))

    fixed, remaining = fix_text(text, display, **kwargs)
    _check(case.with_name(f"{case.stem}.fixed.yaml"), fixed if fixed != text else None)
    assert not [d for d in remaining if d.fix is not None and d.fix.safe], "a safe fix was left unapplied"
    assert fix_text(fixed, display, **kwargs)[0] == fixed, "fixing is not idempotent"
    fixed_codes = {d.code for d in diagnostics if d.fix is not None and d.fix.safe}
    before = {code: sum(d.code == code for d in diagnostics) for code in fixed_codes}
    after = {code: sum(d.code == code for d in remaining) for code in fixed_codes}
    for code in fixed_codes:  # the fixed rules report only what had no safe fix
        unfixable = sum(d.code == code and (d.fix is None or not d.fix.safe) for d in diagnostics)
        assert after[code] <= unfixable, f"{code}: {before[code]} before, {after[code]} after fixing"

    unsafe_fixed, _ = fix_text(text, display, unsafe=True, **kwargs)
    _check(case.with_name(f"{case.stem}.unsafe-fixed.yaml"), unsafe_fixed if unsafe_fixed != fixed else None)


def test_every_rule_has_a_golden_directory() -> None:
    names = {info.name for info in ALL_RULES.values()}
    assert names <= {path.name for path in GOLDEN.iterdir() if path.is_dir()}
