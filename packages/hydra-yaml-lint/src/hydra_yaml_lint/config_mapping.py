"""Which Hydra config a component runs with.

Either ``[tool.hydra-yaml-lint.components]`` maps the file explicitly, or the config named by the
``hydra.main`` call of the component's program is used when the program is found (see
:mod:`hydra_yaml_lint.hydra_app`).
"""

from __future__ import annotations

from pathlib import Path

from hydra_yaml_lint.component import Component
from hydra_yaml_lint.errors import LintError
from hydra_yaml_lint.hydra_app import ConfigTarget, find_app, package_dir
from hydra_yaml_lint.settings import ComponentConfig, Settings

__all__ = ["ConfigTarget", "resolve_target"]


def _explicit_target(config: ComponentConfig, settings: Settings) -> ConfigTarget:
    where = settings.source or "pyproject.toml"
    if config.config_dir is not None:
        directory = config.config_dir
    else:
        module = config.config_module or ""
        package = package_dir(module)
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
    app = find_app(component.program, path)
    return app.target if app is not None and app.is_hydra else None
