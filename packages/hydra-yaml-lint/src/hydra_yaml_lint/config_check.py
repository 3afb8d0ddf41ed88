"""Compose a component's Hydra config with its overrides and say what fails (HY301, HY302)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hydra_yaml_lint.component import Component
from hydra_yaml_lint.config_mapping import ConfigTarget, resolve_target
from hydra_yaml_lint.overrides import ParsedOverride
from hydra_yaml_lint.settings import Settings


@dataclass(frozen=True)
class ConfigFinding:
    """A composition problem: with ``override`` (None: the config itself does not compose)."""

    override: ParsedOverride | None
    unknown_key: bool  # the key or config group option does not exist
    message: str


@dataclass(frozen=True)
class ConfigCheck:
    """The result of composing a component's config with its overrides."""

    target: ConfigTarget
    findings: tuple[ConfigFinding, ...]


def check_config(
    component: Component, settings: Settings, path: Path, overrides: list[ParsedOverride]
) -> ConfigCheck | None:
    """Compose the config ``component`` runs with (see :mod:`~hydra_yaml_lint.config_mapping`) with its
    parsed ``overrides``; None when its config is not known."""
    target = resolve_target(component, settings, path)
    if target is None:
        return None
    # Hydra's compose API costs a fifth of a second to import: only when a config is known
    from hydra_yaml_lint.hydra_compose import check_overrides

    composable = [
        override
        for override in overrides
        if override.error is None and not override.is_sweep and override.key is not None
    ]
    findings = check_overrides(
        target,
        tuple(override.text for override in composable),
        tuple(override.key for override in composable),
    )
    return ConfigCheck(
        target,
        tuple(
            ConfigFinding(
                composable[finding.index] if finding.index >= 0 else None,
                finding.unknown_key,
                finding.message,
            )
            for finding in findings
        ),
    )
