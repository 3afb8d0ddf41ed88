"""Load the component YAMLs: lint them, load them with kfp, point them at the packages' images.

A component's ``image`` field names the Python distribution whose image runs it (``image: trainer``);
compile replaces it with ``<images.registry>/<distribution>:<installed version>``, pinned by digest when
the image lock records one. An image that already is a full reference (contains ``/`` or ``:``) is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from pipeline_sdk.config import resolve_path
from pipeline_sdk.errors import CompileError, ConfigError, LockError


@dataclass(frozen=True)
class LoadedComponent:
    """A kfp component factory plus where it came from and the image it will run."""

    name: str  # the step's name
    key: str  # where the step is configured: steps.NAME or sweep.steps.NAME
    path: Path
    factory: Any
    package: str | None
    image: str


def lint_components(paths: list[Path]) -> list[str]:
    """Run hydra-yaml-lint on ``paths``; raise on errors, return the warnings as text."""
    try:
        from hydra_yaml_lint import LintError, lint_paths
    except ImportError:
        raise CompileError(
            "hydra-yaml-lint is not installed; compile lints the component YAMLs with it "
            "(pip install hydra-yaml-lint)"
        ) from None
    try:
        diagnostics = lint_paths(paths)
    except LintError as e:
        raise CompileError(f"cannot lint the component YAMLs: {e}") from None
    errors = [str(d) for d in diagnostics if d.severity == "error"]
    if errors:
        listing = "\n  ".join(errors)
        raise CompileError(f"component YAML has lint errors (hydra-yaml-lint):\n  {listing}")
    return [str(d) for d in diagnostics if d.severity != "error"]


def component_paths(
    cfg: DictConfig, entries: Mapping[str, tuple[str, DictConfig]]
) -> dict[str, tuple[str, Path]]:
    """Step name → (config key, its ``component`` resolved to an existing file); ``entries``: name → (key,
    entry)."""
    paths = {}
    for name, (key, step) in entries.items():
        path = resolve_path(cfg, step.component)
        if path.exists() and not path.is_file():
            kind = "a directory" if path.is_dir() else "not a regular file"
            raise ConfigError(f"{key}.component: {path} is {kind}, not a component YAML")
        if not path.is_file():
            raise ConfigError(f"{key}.component: no such file {path}")
        paths[name] = (key, path)
    return paths


def _install_hint(cfg: DictConfig, distribution: str) -> str:
    """``pip install -e packages/X`` for the monorepo folder that builds ``distribution``, else by name."""
    from pipeline_sdk.errors import ImageBuildError
    from pipeline_sdk.images.packages import read_project

    for folder in sorted(resolve_path(cfg, "packages").glob("*/")):
        try:
            name, _ = read_project(folder)
        except ImageBuildError:
            continue
        if name == distribution:
            return f"pip install -e {folder}"
    return f"pip install {distribution}"


def _check_component_document(key: str, path: Path) -> None:
    """A component YAML is a mapping (KFP v1 ``implementation``, or a compiled v2 spec); kfp's own error for
    any other file (``'str' object has no attribute 'keys'``) says nothing useful."""
    import yaml

    try:
        document = yaml.safe_load(path.read_text(errors="replace"))
    except (OSError, yaml.YAMLError):
        return  # the linter has reported it, or kfp's error names it
    if not isinstance(document, dict) or not ({"implementation", "deploymentSpec"} & set(document)):
        raise CompileError(
            f"{key}.component: {path} is not a KFP component YAML (a mapping with name, inputs and "
            "implementation.container, or a compiled component)"
        )


def _load_lock(cfg: DictConfig) -> Any:
    from pipeline_sdk.images.lock import load_lock

    try:
        return load_lock(resolve_path(cfg, cfg.images.lock_file))
    except LockError as e:
        raise ConfigError(f"images.lock_file: {e}") from None


def _package_image(cfg: DictConfig, lock: Any, key: str, package: str) -> str:
    """``<images.registry>/<package>:<installed version>``, by digest when ``lock`` records one."""
    from pipeline_sdk.images.lock import image_reference

    try:
        package_version = version(package)
    except PackageNotFoundError:
        raise CompileError(
            f"{key}: image {package!r} names a package that is not installed ({_install_hint(cfg, package)})"
        ) from None
    return image_reference(lock, cfg.images.registry, package, package_version)


def package_image(cfg: DictConfig, key: str, package: str) -> str:
    """The image compile gives the installed ``package`` (see the module docstring); ``key`` names the
    setting that asked for it in an error."""
    return _package_image(cfg, _load_lock(cfg), key, package)


def load_components(cfg: DictConfig, paths: Mapping[str, tuple[str, Path]]) -> dict[str, LoadedComponent]:
    """Load each step's component with kfp and set its image from the installed package version."""
    from kfp import components as kfp_components

    from pipeline_sdk.images.reference import is_package_name

    lock = _load_lock(cfg)
    loaded = {}
    for name, (key, path) in paths.items():
        _check_component_document(key, path)
        try:
            factory = kfp_components.load_component_from_file(str(path))
        except Exception as e:  # kfp raises a mix of ValueError/TypeError/yaml errors for bad files
            raise CompileError(f"{key}.component: kfp cannot load {path}: {e}") from None
        container = factory.component_spec.implementation.container
        if container is None:
            raise CompileError(f"{key}.component: {path} is not a container component")
        declared = container.image
        package = declared if is_package_name(declared) else None
        image = declared if package is None else _package_image(cfg, lock, f"{key}.component", package)
        container.image = image
        loaded[name] = LoadedComponent(name, key, path, factory, package, image)
    return loaded


__all__ = ["LoadedComponent", "component_paths", "lint_components", "load_components", "package_image"]
