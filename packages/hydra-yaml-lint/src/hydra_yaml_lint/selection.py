"""``--select``/``--ignore``: rule codes, code prefixes (``HY1``) or kebab names, or ``ALL``."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from hydra_yaml_lint.errors import UsageError
from hydra_yaml_lint.rules import ALL_RULES


def _expand(entry: str) -> set[str]:
    entry = entry.strip()
    if entry.upper() == "ALL":
        return set(ALL_RULES)
    by_name = {info.name: code for code, info in ALL_RULES.items()}
    if entry in by_name:
        return {by_name[entry]}
    codes = {code for code in ALL_RULES if code.startswith(entry.upper())} if entry else set()
    if not codes:
        raise UsageError(f"unknown rule code or name {entry!r} (see --list-rules)")
    return codes


def split_entries(values: Iterable[str] | None) -> list[str] | None:
    """Flatten repeated and comma-separated option values."""
    if values is None:
        return None
    return [part for value in values for part in value.split(",") if part.strip()]


def selected_codes(select: Iterable[str] | None, ignore: Iterable[str] | None) -> frozenset[str]:
    """The codes to report: ``select`` (default: all) minus ``ignore``."""
    return _selected(None if select is None else tuple(select), tuple(ignore or ()))


@lru_cache(maxsize=64)
def _selected(select: tuple[str, ...] | None, ignore: tuple[str, ...]) -> frozenset[str]:
    chosen = set(ALL_RULES) if select is None else {code for entry in select for code in _expand(entry)}
    for entry in ignore or ():
        chosen -= _expand(entry)
    return frozenset(chosen)
