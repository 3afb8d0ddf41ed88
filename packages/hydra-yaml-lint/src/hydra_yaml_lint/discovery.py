"""Expand the command line's paths into the files to lint.

Directories are searched for ``*.yaml``/``*.yml`` and ``*.json`` (the latter linted only when they are
KFP specs, see :mod:`hydra_yaml_lint.sources`); hidden directories are skipped and symlinked directories
are not followed. A path that cannot be searched becomes a :class:`PathProblem` and the rest goes on.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hydra_yaml_lint.settings import SettingsFinder
from hydra_yaml_lint.sources import JSON_SUFFIX, describe_os_error

SUFFIXES = (".yaml", ".yml", JSON_SUFFIX)
_SKIPPED_DIRECTORIES = frozenset({"node_modules", "__pycache__", "site-packages"})


@dataclass(frozen=True)
class PathProblem:
    """A path that could not be linted, with a one-line reason."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def _walk(directory: Path, problems: list[PathProblem]) -> list[Path]:
    def unreadable(error: OSError) -> None:
        where = os.path.normpath(error.filename or directory)
        problems.append(PathProblem(where, f"cannot read directory: {describe_os_error(error)}"))

    found: list[Path] = []
    for root, directories, files in os.walk(directory, onerror=unreadable):
        directories[:] = sorted(
            d for d in directories if not d.startswith(".") and d not in _SKIPPED_DIRECTORIES
        )
        found.extend(Path(root, name) for name in sorted(files) if name.endswith(SUFFIXES))
    return found


def discover(paths: Sequence[Path | str], finder: SettingsFinder) -> tuple[list[Path], list[PathProblem]]:
    """Files named directly plus the matching files under directories, minus excluded ones; and the
    paths that could not be searched."""
    found: list[Path] = []
    problems: list[PathProblem] = []
    seen: set[str] = set()
    for given in paths:
        path = Path(given)
        try:
            is_directory = path.is_dir()
            os.stat(path)
        except OSError as error:
            key = os.path.realpath(path)
            if key not in seen:  # e.g. a symlink loop both named and found in a directory
                seen.add(key)
                reason = describe_os_error(error)
                message = (
                    "no such file or directory" if error.errno == errno.ENOENT else f"cannot read: {reason}"
                )
                problems.append(PathProblem(str(path), message))
            continue
        candidates = _walk(path, problems) if is_directory else [path]
        for candidate in candidates:
            key = os.path.realpath(candidate)
            if key in seen or finder.for_path(candidate).is_excluded(candidate):
                continue
            seen.add(key)
            found.append(candidate)
    return found, problems
