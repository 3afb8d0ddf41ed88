"""What a rule may ask about beyond the component itself: settings, and its Hydra config."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hydra_yaml_lint.component import Component
from hydra_yaml_lint.config_mapping import ConfigTarget, resolve_target
from hydra_yaml_lint.overrides import ParsedOverride, parsed_overrides
from hydra_yaml_lint.settings import Settings


@dataclass
class ConfigCheck:
    """The result of composing a component's config with its overrides."""

    target: ConfigTarget
    findings: list[
        tuple[ParsedOverride | None, bool, str]
    ]  # (override or None for the config, unknown key?, message)


@dataclass
class LintContext:
    settings: Settings
    path: Path

    def config_check(self, component: Component) -> ConfigCheck | None:
        """Compose the component's Hydra config (once per component); None if it has no known config."""
        if "config_check" in component.analysis:
            return component.analysis["config_check"]
        target = resolve_target(component, self.settings, self.path)
        result = None
        if target is not None:
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
            result = ConfigCheck(
                target,
                [
                    (
                        overrides[finding.index] if finding.index >= 0 else None,
                        finding.unknown_key,
                        finding.message,
                    )
                    for finding in findings
                ],
            )
        component.analysis["config_check"] = result
        return result
