"""Real public component and pipeline files (``tests/corpus``, sources in ``tests/corpus/SOURCES.tsv``):
golden expectations per file in ``tests/corpus_expected/<path>.txt`` -- each component's Hydra verdict,
then the diagnostics -- and, on every file, fixes that keep it parseable, are idempotent and never touch
the argument list of a component that is not a Hydra app.

Regenerate after an intended change with ``HYDRA_YAML_LINT_UPDATE_GOLDEN=1 pytest ...`` and review.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from hydra_yaml_lint import Settings, fix_text
from hydra_yaml_lint.linter import HYDRA_ONLY, analyse
from hydra_yaml_lint.rules import ALL_RULES
from hydra_yaml_lint.sources import read_contents

TESTS = Path(__file__).parent
CORPUS = TESTS / "corpus"
EXPECTED = TESTS / "corpus_expected"
UPDATE = os.environ.get("HYDRA_YAML_LINT_UPDATE_GOLDEN") == "1"
CODES = frozenset(ALL_RULES)
DISCOVER = Settings()  # nothing declared: what a repository gets before it configures the linter
FILES = sorted(path for path in CORPUS.rglob("*") if path.suffix in (".yaml", ".yml", ".json"))


def _relative(path: Path) -> str:
    return path.relative_to(CORPUS).as_posix()


def test_every_file_has_a_source_and_a_licence() -> None:
    with (CORPUS / "SOURCES.tsv").open(newline="") as handle:
        rows = {row["file"]: row for row in csv.DictReader(handle, delimiter="\t")}
    on_disk = {_relative(path) for path in CORPUS.rglob("*") if path.is_file() and path.name != "SOURCES.tsv"}
    assert on_disk == set(rows)
    for row in rows.values():
        assert "/" in row["repository"] and row["path"] and len(row["commit"]) == 40 and row["licence"]
    assert 30 <= len(FILES) <= 80


@pytest.mark.parametrize("path", FILES, ids=[_relative(path) for path in FILES])
def test_corpus_file(path: Path) -> None:
    display = _relative(path)
    text = read_contents(path).text
    assert text is not None
    analysis = analyse(text, display, DISCOVER, CODES, path)
    lines = [
        f"# {c.name}: {'Hydra app' if v.is_hydra else 'KFP rules only'} ({v.reason})"
        for c, v in zip(analysis.components, analysis.verdicts, strict=True)
    ]
    lines += [str(d) for d in analysis.diagnostics]
    actual = "".join(f"{line}\n" for line in lines)
    expected_path = EXPECTED / f"{display}.txt"
    if UPDATE:
        expected_path.parent.mkdir(parents=True, exist_ok=True)
        expected_path.write_text(actual)
    else:
        assert actual == expected_path.read_text()

    if not any(v.is_hydra for v in analysis.verdicts):
        assert not {d.code for d in analysis.diagnostics} & HYDRA_ONLY

    fixed, _ = fix_text(text, display, settings=DISCOVER, path=path, unsafe=True)
    if path.suffix == ".json" and text:  # a JSON file that is no KFP spec reads as empty: not linted
        json.loads(fixed)
    assert fix_text(fixed, display, settings=DISCOVER, path=path, unsafe=True)[0] == fixed
    after = analyse(fixed, display, DISCOVER, CODES, path).components
    assert len(after) == len(analysis.components)
    for before, now, verdict in zip(analysis.components, after, analysis.verdicts, strict=True):
        if not verdict.is_hydra:
            assert len(now.argv) == len(before.argv), f"{before.name}: a non-Hydra argument list was edited"
