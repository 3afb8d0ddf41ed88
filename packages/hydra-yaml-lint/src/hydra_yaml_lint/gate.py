"""The Hydra gate: which components are Hydra apps, so that the Hydra-only rules (argument style,
override grammar, config keys) and their fixes apply to them and to no other component.

In order:

1. never: a shell, ``python -c`` code, a KFP Python-function component or an ordinary program (git,
   gsutil, ...) is not a Hydra app, whatever else is said;
2. declared: ``[tool.hydra-yaml-lint]`` maps the file in ``components``, lists it in
   ``hydra-components`` or names its program in ``hydra-programs``;
3. discovered: the program (console script, ``python -m module`` or script path) is found here and
   calls ``hydra.main`` -- or is found and does not, which settles it the other way;
4. by intent: an argument already is a Hydra-style override with a placeholder (``key={{...}}``), so
   the component is meant to be a Hydra app.

Everything else gets the KFP-level rules only.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from hydra_yaml_lint.component import Component
from hydra_yaml_lint.hydra_app import find_app
from hydra_yaml_lint.settings import Settings

# A Hydra override's key: `a.b=`, `+a=`, `++a.b=`, `~a=`, `group@pkg=`
_HYDRA_KEY = re.compile(r"(?:~|\+{1,2})?[A-Za-z_][\w-]*(?:\.[\w-]+)*(?:@[\w.]*)?=")
_NEVER = {
    "shell": "a shell script",
    "inline-code": "inline Python code (-c)",
    "kfp-python": "a KFP Python-function component",
    "ordinary": "not a Python program",
    "none": "its command is not a program name",
}


@dataclass(frozen=True)
class HydraVerdict:
    """Whether a component is a Hydra app, and why (for messages and tests). ``settled`` is False when
    its program might be a Hydra app but is neither declared nor found: declaring it would change the
    verdict."""

    is_hydra: bool
    reason: str
    settled: bool = True


def _declared_program(component: Component, settings: Settings) -> bool:
    program = component.program
    name = program.name or ""
    names = {name, program.describe()}
    if program.kind == "script":
        names.add(os.path.basename(name))
    return any(settings.declares_hydra_program(candidate) for candidate in names)


def intends_hydra(component: Component) -> bool:
    """Whether a program argument is a Hydra-style override carrying a placeholder."""
    return any(
        arg.value is not None and arg.placeholders and _HYDRA_KEY.match(arg.value) for arg in component.args
    )


def hydra_verdict(component: Component, settings: Settings, path: Path) -> HydraVerdict:
    """Decide (see the module docstring) whether ``component`` is a Hydra app."""
    program = component.program
    if not program.may_be_hydra:
        return HydraVerdict(False, _NEVER.get(program.kind, program.kind))
    if settings.component_config(path) is not None:
        return HydraVerdict(True, "mapped in [tool.hydra-yaml-lint.components]")
    if settings.declares_hydra_component(path):
        return HydraVerdict(True, "declared in hydra-components")
    if _declared_program(component, settings):
        return HydraVerdict(True, f"{program.describe()} declared in hydra-programs")
    if settings.discover_configs:
        app = find_app(program, path)
        if app is not None:
            found = f"{program.describe()} ({app.source.name})"
            if app.is_hydra:
                return HydraVerdict(True, f"{found} calls hydra.main")
            return HydraVerdict(False, f"{found} does not call hydra.main")
    if intends_hydra(component):
        return HydraVerdict(True, "its arguments are Hydra overrides")
    return HydraVerdict(False, f"{program.describe()} is not known to be a Hydra app", settled=False)
