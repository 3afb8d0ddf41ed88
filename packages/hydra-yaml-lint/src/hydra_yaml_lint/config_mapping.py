"""Which Hydra config a component runs with.

Either ``[tool.hydra-yaml-lint.components]`` maps the file explicitly, or the component's program is
found: ``command[0]`` as a console script (``importlib.metadata`` entry points) or ``python -m module``.
The entry module's source is read with ``ast`` (never imported: it may import torch) for
``@hydra.main(config_path=..., config_name=..., version_base=...)``; when the entry module only calls
into the package, the package's other modules are searched for that decorator.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from hydra_yaml_lint.component import Component
from hydra_yaml_lint.settings import ComponentConfig, LintError, Settings

_UNSET = "<unset>"  # hydra.main called without version_base: Hydra's 1.1 compatibility defaults
_MAX_PACKAGE_FILES = 500


@dataclass(frozen=True)
class ConfigTarget:
    """A primary config: ``config_dir/config_name.yaml`` composed with ``version_base``."""

    config_dir: Path
    config_name: str
    version_base: str | None
    origin: str  # how it was found, for messages


def module_path(name: str) -> Path | None:
    """The source file (or package directory) of module ``name``, found without importing it.

    Only the top-level name goes through ``importlib.util.find_spec`` (which imports nothing for it and
    honours editable-install finders); submodules are looked up in the package's directories.
    """
    parts = name.split(".")
    try:
        spec = importlib.util.find_spec(parts[0])
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if len(parts) == 1:
        if spec.origin and Path(spec.origin).exists():
            return Path(spec.origin)
        locations = list(spec.submodule_search_locations or [])
        return Path(locations[0]) if locations else None
    directories = [Path(location) for location in spec.submodule_search_locations or []]
    for index, part in enumerate(parts[1:], start=2):
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


def _package_dir(module: str) -> Path | None:
    path = module_path(module)
    if path is None:
        return None
    return path.parent if path.name == "__init__.py" else path if path.is_dir() else None


def _console_script_module(program: str) -> str | None:
    return _console_script_module_on(program, tuple(sys.path))


@lru_cache(maxsize=64)
def _console_script_module_on(program: str, search_path: tuple[str, ...]) -> str | None:
    import importlib.metadata

    try:
        matches = importlib.metadata.entry_points(group="console_scripts", name=program)
    except Exception:  # broken distribution metadata must not break linting
        return None
    for entry_point in matches:
        return entry_point.value.split(":", 1)[0].strip()
    return None


def _literal(node: ast.expr | None) -> object:
    if node is None:
        return _UNSET
    try:
        return ast.literal_eval(node)
    except ValueError:
        return _UNSET


def _hydra_main_calls(tree: ast.Module) -> list[ast.Call]:
    hydra_names = {"hydra"}
    main_names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            hydra_names.update(alias.asname or "hydra" for alias in node.names if alias.name == "hydra")
        elif isinstance(node, ast.ImportFrom) and node.module == "hydra":
            main_names.update(alias.asname or alias.name for alias in node.names if alias.name == "main")
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for decorator in node.decorator_list:
            if not isinstance(decorator, ast.Call):
                continue
            func = decorator.func
            is_main = (
                isinstance(func, ast.Attribute)
                and func.attr == "main"
                and isinstance(func.value, ast.Name)
                and func.value.id in hydra_names
            ) or (isinstance(func, ast.Name) and func.id in main_names)
            if is_main:
                calls.append(decorator)
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
        directory = _package_dir(config_path[len("pkg://") :].replace("/", "."))
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
        f"@hydra.main in {source.name}",
    )


def _targets_in(source: Path) -> tuple[ConfigTarget, ...]:
    try:
        stamp = source.stat().st_mtime_ns
    except OSError:
        return ()
    return _targets_in_version(source, stamp)


@lru_cache(maxsize=256)
def _targets_in_version(source: Path, stamp: int) -> tuple[ConfigTarget, ...]:
    try:
        text = source.read_text(encoding="utf-8")
        if "hydra" not in text:
            return ()
        tree = ast.parse(text, filename=str(source))
    except (OSError, SyntaxError, ValueError, RecursionError):
        return ()
    targets = (_target_from_call(call, source) for call in _hydra_main_calls(tree))
    return tuple(target for target in targets if target is not None)


def discover_target(module: str) -> ConfigTarget | None:
    """The config of the ``@hydra.main`` app behind ``module`` (searching its package if needed)."""
    return _discover_target_on(module, tuple(sys.path))


@lru_cache(maxsize=64)
def _discover_target_on(module: str, search_path: tuple[str, ...]) -> ConfigTarget | None:
    path = module_path(module)
    if path is None or path.suffix != ".py":
        return None
    targets = _targets_in(path)
    if targets:
        return targets[0]
    package = _package_dir(module.split(".")[0])
    if package is None:
        return None
    found = {
        target
        for source in sorted(package.rglob("*.py"))[:_MAX_PACKAGE_FILES]
        for target in _targets_in(source)
    }
    return found.pop() if len(found) == 1 else None


def _explicit_target(config: ComponentConfig, settings: Settings) -> ConfigTarget:
    where = settings.source or "pyproject.toml"
    if config.config_dir is not None:
        directory = config.config_dir
    else:
        module = config.config_module or ""
        package = _package_dir(module)
        if package is None:
            raise LintError(f"{where}: config_module {module!r} is not an importable package")
        directory = package
    if not directory.is_dir():
        raise LintError(f"{where}: config directory {directory} does not exist")
    origin = f"mapped in {Path(where).name}" if settings.source else "mapped by settings"
    return ConfigTarget(directory, config.config_name, config.version_base, origin)


def resolve_target(component: Component, settings: Settings, path: Path) -> ConfigTarget | None:
    """The config ``component`` runs with, or None when it cannot be determined."""
    explicit = settings.component_config(path)
    if explicit is not None:
        return _explicit_target(explicit, settings)
    if not settings.discover_configs:
        return None
    module = component.entry_module
    if module is None and component.command_name:
        module = _console_script_module(component.command_name)
    return discover_target(module) if module else None
