"""What a rule may ask about beyond the component itself: settings, and its Hydra config."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hydra_yaml_lint.component import Component
from hydra_yaml_lint.config_mapping import ConfigTarget, resolve_target
from hydra_yaml_lint.overrides import ParsedOverride, parsed_overrides
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


@dataclass
class LintContext:
    settings: Settings
    path: Path

    def config_check(self, component: Component) -> ConfigCheck | None:
        """Compose the component's Hydra config (once per component); None if it has no known config."""
        if component.config_checked:
            return component.config_check
        component.config_checked = True
        target = resolve_target(component, self.settings, self.path)
        if target is None:
            return None
        from hydra_yaml_lint.hydra_compose import check_overrides

        overrides = [
            override
            for override in parsed_overrides(component)
            if override.error is None and not override.is_sweep and override.key is not None
        ]
        findings = check_overrides(
            target,
            tuple(override.text for override in overrides),
            tuple(override.key for override in overrides),
        )
        component.config_check = ConfigCheck(
            target,
            tuple(
                ConfigFinding(
                    overrides[finding.index] if finding.index >= 0 else None,
                    finding.unknown_key,
                    finding.message,
                )
                for finding in findings
            ),
        )
        return component.config_check
