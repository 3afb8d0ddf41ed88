"""docs/vertex-behaviour.md stays true to the code: every row is whole, and every test and module it names
exists, so a row cannot point at an emulation that was renamed or removed."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "vertex-behaviour.md"
COLUMNS = ["#", "behaviour", "our code", "public source", "emulated by", "verified"]
#: `file.py`, `file.py::test_name`, or `::test_name` (another test of the file named before it)
TEST_REF = re.compile(r"`(?P<file>test_\w+\.py)?(?:::(?P<name>test_\w+))?(?:\[[^\]]*\])?`")


def rows() -> list[list[str]]:
    found = []
    for line in PAGE.read_text().splitlines():
        # a cell may hold an escaped pipe (`\|`)
        cells = (
            [c.strip() for c in re.split(r"(?<!\\)\|", line.strip()[1:-1])] if line.startswith("|") else []
        )
        if cells and cells != COLUMNS and not set(cells[0]) <= set("-"):
            found.append(cells)
    return found


def test_every_row_has_its_six_cells_and_a_verified_cell() -> None:
    table = rows()
    assert len(table) >= 30
    for cells in table:
        assert len(cells) == len(COLUMNS), cells[0]
        assert re.fullmatch(r"[A-Z]\d+", cells[0]), cells[0]
        assert cells[5] == "no" or re.match(r"\d{4}-\d{2}-\d{2}", cells[5]), cells[0]
    assert len({cells[0] for cells in table}) == len(table)


def test_the_tests_and_modules_it_names_exist() -> None:
    test_files = {path.name: path for path in REPO.glob("**/tests/**/test_*.py")}
    test_files.update({path.name: path for path in (REPO / "tests").glob("test_*.py")})
    missing = []
    for cells in rows():
        emulated = cells[4]
        current: Path | None = None
        for match in TEST_REF.finditer(emulated):
            if match["file"]:
                current = test_files.get(match["file"])
                if current is None:
                    missing.append(f"{cells[0]}: {match['file']}")
                    continue
            if match["name"] and (current is None or f"def {match['name']}(" not in current.read_text()):
                missing.append(f"{cells[0]}: {match['name']}")
        for module in re.findall(r"`((?:[a-z_]+/)*[a-z_]+\.py)`", cells[2]):
            if not any(REPO.glob(f"packages/*/src/**/{module}")):
                missing.append(f"{cells[0]}: {module}")
    assert not missing, missing
