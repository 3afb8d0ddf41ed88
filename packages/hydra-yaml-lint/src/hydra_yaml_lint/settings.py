"""``[tool.hydra-yaml-lint]`` in the nearest ``pyproject.toml`` that has that table.

    [tool.hydra-yaml-lint]
    select = ["HY"]                       # codes, code prefixes or rule names
    ignore = ["unused-input"]
    exclude = ["configs/experimental/**"]  # globs, relative to this pyproject.toml
    discover-configs = true                # find each component's program and read it for hydra.main
    hydra-programs = ["trainer", "python -m app.train", "src/train.py"]  # Hydra apps not installed here
    hydra-components = ["configs/components/*.yaml"]  # every component in these files is a Hydra app

    [tool.hydra-yaml-lint.components]
    "configs/components/train.yaml" = {config_module = "trainer.conf", config_name = "train"}
    "configs/components/legacy/*.yaml" = {config_dir = "legacy/conf", config_name = "main"}

Keys may be written with ``-`` or ``_``.
"""

from __future__ import annotations

import fnmatch
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra_yaml_lint.errors import LintError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

TABLE = "hydra-yaml-lint"
_TOP_KEYS = {
    "select",
    "ignore",
    "exclude",
    "discover_configs",
    "hydra_programs",
    "hydra_components",
    "components",
}
_COMPONENT_KEYS = {"config_module", "config_dir", "config_name", "version_base"}


@dataclass(frozen=True)
class ComponentConfig:
    """Where the Hydra config of matching components lives."""

    config_name: str
    config_module: str | None = None
    config_dir: Path | None = None
    version_base: str | None = "1.3"


@dataclass
class Settings:
    """Options from one pyproject.toml (or defaults when there is none)."""

    root: Path | None = None
    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    discover_configs: bool = True
    hydra_programs: list[str] = field(default_factory=list)
    hydra_components: list[str] = field(default_factory=list)
    components: list[tuple[str, ComponentConfig]] = field(default_factory=list)
    source: Path | None = None

    def relative(self, path: Path) -> str | None:
        if self.root is None:
            return None
        try:
            return Path(os.path.realpath(path)).relative_to(self.root).as_posix()
        except ValueError:
            return None

    def declares_hydra_program(self, program: str) -> bool:
        """Whether ``hydra-programs`` names ``program`` (a console script, ``python -m module`` or a
        script path as written in the component; globs allowed)."""
        return any(fnmatch.fnmatchcase(program, pattern) for pattern in self.hydra_programs)

    def declares_hydra_component(self, path: Path) -> bool:
        relative = self.relative(path)
        return relative is not None and any(
            fnmatch.fnmatch(relative, pattern) for pattern in self.hydra_components
        )

    def is_excluded(self, path: Path) -> bool:
        relative = self.relative(path)
        return relative is not None and any(fnmatch.fnmatch(relative, pattern) for pattern in self.exclude)

    def component_config(self, path: Path) -> ComponentConfig | None:
        relative = self.relative(path)
        if relative is None:
            return None
        for pattern, config in self.components:
            if relative == pattern or fnmatch.fnmatch(relative, pattern):
                return config
        return None


def _normalized(table: dict[str, Any]) -> dict[str, Any]:
    return {key.replace("-", "_"): value for key, value in table.items()}


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise LintError(f"{where} must be a list of strings")
    return value


def _component(pattern: str, value: Any, root: Path, where: str) -> ComponentConfig:
    if not isinstance(value, dict):
        raise LintError(f"{where}: components.{pattern!r} must be a table")
    entry = _normalized(value)
    unknown = set(entry) - _COMPONENT_KEYS
    if unknown:
        raise LintError(f"{where}: unknown key {sorted(unknown)[0]!r} in components.{pattern!r}")
    name = entry.get("config_name")
    module, directory = entry.get("config_module"), entry.get("config_dir")
    if not isinstance(name, str) or not name:
        raise LintError(f"{where}: components.{pattern!r} needs config_name")
    if (module is None) == (directory is None):
        raise LintError(f"{where}: components.{pattern!r} needs exactly one of config_module, config_dir")
    for key in ("config_module", "config_dir", "version_base"):
        if entry.get(key) is not None and not isinstance(entry[key], str):
            raise LintError(f"{where}: components.{pattern!r}.{key} must be a string")
    return ComponentConfig(
        config_name=name,
        config_module=module,
        config_dir=(root / directory).resolve() if directory is not None else None,
        version_base=entry.get("version_base", "1.3"),
    )


def load_settings(pyproject: Path) -> Settings | None:
    """Settings from ``pyproject``; None when it has no ``[tool.hydra-yaml-lint]`` table."""
    try:
        with pyproject.open("rb") as handle:
            document = tomllib.load(handle)
    except OSError as error:
        raise LintError(f"cannot read {pyproject}: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise LintError(f"{pyproject}: invalid TOML: {error}") from None
    table = document.get("tool", {}).get(TABLE)
    if table is None:
        return None
    where = f"{pyproject} [tool.{TABLE}]"
    if not isinstance(table, dict):
        raise LintError(f"{where} must be a table")
    options = _normalized(table)
    unknown = set(options) - _TOP_KEYS
    if unknown:
        raise LintError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    root = pyproject.parent.resolve()
    settings = Settings(root=root, source=pyproject)
    if "select" in options:
        settings.select = _strings(options["select"], f"{where} select")
    settings.ignore = _strings(options.get("ignore", []), f"{where} ignore")
    settings.exclude = _strings(options.get("exclude", []), f"{where} exclude")
    discover = options.get("discover_configs", True)
    if not isinstance(discover, bool):
        raise LintError(f"{where} discover-configs must be true or false")
    settings.discover_configs = discover
    settings.hydra_programs = _strings(options.get("hydra_programs", []), f"{where} hydra-programs")
    settings.hydra_components = _strings(options.get("hydra_components", []), f"{where} hydra-components")
    components = options.get("components", {})
    if not isinstance(components, dict):
        raise LintError(f"{where} components must be a table")
    settings.components = [
        (pattern, _component(pattern, value, root, where)) for pattern, value in components.items()
    ]
    return settings


class SettingsFinder:
    """Find (and cache per directory) the settings that apply to a file."""

    def __init__(self, explicit: Settings | None = None) -> None:
        self._explicit = explicit
        self._by_directory: dict[Path, Settings] = {}

    def for_path(self, path: Path) -> Settings:
        if self._explicit is not None:
            return self._explicit
        directory = Path(os.path.realpath(path)).parent
        visited: list[Path] = []
        found: Settings | None = None
        for candidate in (directory, *directory.parents):
            cached = self._by_directory.get(candidate)
            if cached is not None:
                found = cached
                break
            visited.append(candidate)
            pyproject = candidate / "pyproject.toml"
            if pyproject.is_file():
                found = load_settings(pyproject)
                if found is not None:
                    break
        found = found or Settings()
        for candidate in visited:
            self._by_directory[candidate] = found
        return found
