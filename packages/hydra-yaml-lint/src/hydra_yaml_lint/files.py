"""Expand the command line's paths into the YAML files to lint."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from hydra_yaml_lint.settings import LintError, SettingsFinder

YAML_SUFFIXES = (".yaml", ".yml")
_SKIPPED_DIRECTORIES = frozenset({"node_modules", "__pycache__", "site-packages"})


def _walk(directory: Path) -> Iterator[Path]:
    for root, directories, files in os.walk(directory, onerror=None):
        directories[:] = sorted(
            d for d in directories if not d.startswith(".") and d not in _SKIPPED_DIRECTORIES
        )
        for name in sorted(files):
            if name.endswith(YAML_SUFFIXES):
                yield Path(root, name)


def discover(paths: Sequence[Path | str], finder: SettingsFinder) -> list[Path]:
    """Files named directly plus ``*.yaml``/``*.yml`` under directories, minus excluded ones."""
    found: list[Path] = []
    seen: set[Path] = set()
    for given in paths:
        path = Path(given)
        if path.is_dir():
            candidates = list(_walk(path))
        elif path.exists():
            candidates = [path]
        else:
            raise LintError(f"{path}: no such file or directory")
        for candidate in candidates:
            key = candidate.resolve()
            if key in seen or finder.for_path(candidate).is_excluded(candidate):
                continue
            seen.add(key)
            found.append(candidate)
    return found
