"""Find a component's program on this machine and read it for ``hydra.main``.

A console script is looked up among the installed entry points, ``python -m module`` through the import
system and then beside the component, a script path (``python src/train.py``) against the component
file's directory and each ancestor up to the repository root (the nearest directory with ``.git`` or
``pyproject.toml``). The source is read with ``ast``, never imported (it may import torch): a
``hydra.main(config_path=..., config_name=..., version_base=...)`` call, as a decorator or called
directly, makes it a Hydra app. When a console script's module only calls into its package, the
package's other modules are searched for that call.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from hydra_yaml_lint.program import Program

_UNSET = "<unset>"  # hydra.main called without version_base: Hydra's 1.1 compatibility defaults
_MAX_PACKAGE_FILES = 500
_ROOT_MARKERS = (".git", "pyproject.toml")


@dataclass(frozen=True)
class ConfigTarget:
    """A primary config: ``config_dir/config_name.yaml`` composed with ``version_base``."""

    config_dir: Path
    config_name: str
    version_base: str | None
    origin: str  # how it was found, for messages


@dataclass(frozen=True)
class HydraApp:
    """A program found on this machine: ``is_hydra`` when it calls ``hydra.main``; ``target`` when that
    call names a config directory that exists."""

    source: Path
    is_hydra: bool
    target: ConfigTarget | None = None


def module_path(name: str, search: tuple[Path, ...] = ()) -> Path | None:
    """The source file (or package directory) of module ``name``, found without importing it: through
    the import system, else under one of the ``search`` directories.

    Only the top-level name goes through ``importlib.util.find_spec`` (which imports nothing for it and
    honours editable-install finders); submodules are looked up in the package's directories.
    """
    parts = name.split(".")
    if not all(part.isidentifier() for part in parts):
        return None
    try:
        spec = importlib.util.find_spec(parts[0])
    except (ImportError, ValueError):
        spec = None
    if spec is not None:
        if len(parts) == 1:
            if spec.origin and Path(spec.origin).exists():
                return Path(spec.origin)
            locations = list(spec.submodule_search_locations or [])
            return Path(locations[0]) if locations else None
        return _submodule([Path(location) for location in spec.submodule_search_locations or []], parts[1:])
    return _submodule(list(search), parts)


def _submodule(directories: list[Path], parts: list[str]) -> Path | None:
    for index, part in enumerate(parts, start=1):
        last = index == len(parts)
        found: Path | None = None
        for directory in directories:
            if (directory / part / "__init__.py").is_file():
                found = directory / part / "__init__.py"
            elif last and (directory / f"{part}.py").is_file():
                found = directory / f"{part}.py"
            elif (directory / part).is_dir():
                found = directory / part  # a namespace portion
            if found is not None:
                break
        if found is None:
            return None
        if last:
            return found
        directories = [found.parent if found.name == "__init__.py" else found]
    return None


def package_dir(module: str) -> Path | None:
    path = module_path(module)
    if path is None:
        return None
    return path.parent if path.name == "__init__.py" else path if path.is_dir() else None


def console_script_module(program: str) -> str | None:
    """The module behind an installed console script, or None."""
    return _console_scripts(tuple(sys.path)).get(program)


@lru_cache(maxsize=8)
def _console_scripts(search_path: tuple[str, ...]) -> dict[str, str]:
    """Console script name -> module, read once per import path (``search_path`` is ``sys.path``: adding
    a directory to it, as an editable install or a test does, changes what is installed)."""
    import importlib.metadata

    scripts: dict[str, str] = {}
    try:
        entry_points = importlib.metadata.entry_points(group="console_scripts")
    except Exception:  # broken distribution metadata must not break linting
        return scripts
    for entry_point in entry_points:
        scripts.setdefault(entry_point.name, entry_point.value.split(":", 1)[0].strip())
    return scripts


def _literal(node: ast.expr | None) -> object:
    if node is None:
        return _UNSET
    try:
        return ast.literal_eval(node)
    except ValueError:
        return _UNSET


def _hydra_main_calls(tree: ast.Module) -> list[ast.Call]:
    """Every ``hydra.main(...)`` call, whether a decorator or called directly on a function."""
    hydra_names = {"hydra"}
    main_names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            hydra_names.update(alias.asname or "hydra" for alias in node.names if alias.name == "hydra")
        elif isinstance(node, ast.ImportFrom) and node.module == "hydra":
            main_names.update(alias.asname or alias.name for alias in node.names if alias.name == "main")
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "main"
            and isinstance(func.value, ast.Name)
            and func.value.id in hydra_names
        ) or (isinstance(func, ast.Name) and func.id in main_names):
            calls.append(node)
    return calls


def _target_from_call(call: ast.Call, source: Path) -> ConfigTarget | None:
    arguments: dict[str, ast.expr] = dict(
        zip(("config_path", "config_name", "version_base"), call.args, strict=False)
    )
    arguments.update({keyword.arg: keyword.value for keyword in call.keywords if keyword.arg})
    config_path, config_name = _literal(arguments.get("config_path")), _literal(arguments.get("config_name"))
    version_base = _literal(arguments.get("version_base"))
    if not isinstance(config_path, str) or not isinstance(config_name, str):
        return None  # structured configs only, or computed at run time
    if config_path.startswith("pkg://"):
        directory = package_dir(config_path[len("pkg://") :].replace("/", "."))
    elif config_path.startswith("file://"):
        directory = Path(config_path[len("file://") :])
    else:
        directory = (source.parent / config_path).resolve()
    if directory is None or not directory.is_dir():
        return None
    return ConfigTarget(
        directory,
        config_name.removesuffix(".yaml"),
        "1.1" if version_base == _UNSET else version_base if isinstance(version_base, str) else None,
        f"hydra.main in {source.name}",
    )


def _read(source: Path) -> HydraApp | None:
    """``source`` read for ``hydra.main`` (cached while the file is unchanged); None if unreadable."""
    try:
        stamp = source.stat().st_mtime_ns
    except OSError:
        return None
    return _read_version(source, stamp)


@lru_cache(maxsize=256)
def _read_version(source: Path, stamp: int) -> HydraApp | None:
    """``stamp`` (the file's mtime) only keys the cache, so an edited file is read again."""
    try:
        text = source.read_text(encoding="utf-8")
        if "hydra" not in text:
            return HydraApp(source, is_hydra=False)
        tree = ast.parse(text, filename=str(source))
    except (OSError, SyntaxError, ValueError, RecursionError):
        return None
    calls = _hydra_main_calls(tree)
    targets = [target for target in (_target_from_call(call, source) for call in calls) if target]
    return HydraApp(source, is_hydra=bool(calls), target=targets[0] if targets else None)


def _module_app(module: str, search: tuple[Path, ...]) -> HydraApp | None:
    return _module_app_on(module, search, tuple(sys.path))


@lru_cache(maxsize=256)
def _module_app_on(module: str, search: tuple[Path, ...], search_path: tuple[str, ...]) -> HydraApp | None:
    """The app of ``module``; for a module without ``hydra.main`` (an entry point that calls into its
    package), the package's one ``hydra.main`` if it has exactly one. ``search_path`` (``sys.path``)
    only keys the cache: what a module name means changes with it."""
    path = module_path(module, search)
    if path is not None and path.is_dir():
        path = path / "__main__.py" if (path / "__main__.py").is_file() else None
    if path is None or path.suffix != ".py":
        return None
    app = _read(path)
    if app is None or app.is_hydra:
        return app
    package = package_dir(module.split(".")[0])
    if package is None:
        return app
    found = {
        other
        for source in sorted(package.rglob("*.py"))[:_MAX_PACKAGE_FILES]
        if (other := _read(source)) is not None and other.is_hydra
    }
    return found.pop() if len(found) == 1 else app


def repository_dirs(component_file: Path) -> tuple[Path, ...]:
    """The component file's directory and its ancestors up to the repository root (the nearest one
    with ``.git`` or ``pyproject.toml``); only the directory itself when there is no root."""
    return _repository_dirs(Path(os.path.realpath(component_file)).parent)


@lru_cache(maxsize=256)
def _repository_dirs(directory: Path) -> tuple[Path, ...]:
    chain = [directory]
    for candidate in (directory, *directory.parents):
        if candidate != directory:
            chain.append(candidate)
        if any((candidate / marker).exists() for marker in _ROOT_MARKERS):
            return tuple(chain)
    return (directory,)


def _script_path(script: str, directories: tuple[Path, ...]) -> Path | None:
    path = Path(script)
    if path.is_absolute():
        return path if path.is_file() else None
    for directory in directories:
        candidate = directory / path
        if candidate.is_file():
            return candidate
    return None


def find_app(program: Program, component_file: Path) -> HydraApp | None:
    """The program a component runs, found on this machine and read; None when it is not found."""
    name = program.name
    if name is None or program.kind not in ("console-script", "module", "script"):
        return None
    directories = repository_dirs(component_file)
    if program.kind == "script":
        path = _script_path(name, directories)
        return _read(path) if path is not None and path.suffix == ".py" else None
    if program.kind == "console-script":
        module = console_script_module(name)
        return _module_app(module, ()) if module else None
    return _module_app(name, directories)
