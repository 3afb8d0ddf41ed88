"""Environments: ``configs/env/NAME.yaml``, a Hydra config group chosen with ``env=NAME``.

An environment holds what differs between the places a run goes to (``gcp.*``, ``images.registry``,
``kfp.*``, ``backend``); its keys are merged over ``pipeline.yaml``'s (whose ``defaults:`` list puts
``_self_`` first), and command-line overrides win over both. ``local`` is the default and changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from pipeline_sdk.errors import ConfigError

#: the config group (a directory beside pipeline.yaml) and the key its choice is recorded under
GROUP = "env"
_NAME = re.compile(r"[A-Za-z0-9_][\w.-]*")


class UnknownEnvironment(ConfigError):
    """``env=NAME`` names no ``configs/env/NAME.yaml``: a choice the command line got wrong, so exit 2 as
    for any other bad choice of value."""

    exit_code = 2


def available(config_dir: Path) -> list[str]:
    """The environments ``config_dir/env/`` holds, sorted."""
    directory = config_dir / GROUP
    if not directory.is_dir():
        return []
    return sorted(path.stem for path in directory.glob("*.yaml") if path.is_file())


def environment_file(config_dir: Path, name: str) -> Path:
    """The file of environment ``name``."""
    return config_dir / GROUP / f"{name}.yaml"


def _written(overrides: Sequence[str]) -> str | None:
    """The ``env=NAME`` override as the user wrote it (without ``+``), or None."""
    for override in reversed(overrides):
        key = override.split("=", 1)[0].lstrip("+~")
        if key == GROUP:
            return override.lstrip("+")
    return None


def unknown_environment(config_dir: Path, name: str, overrides: Sequence[str]) -> UnknownEnvironment:
    """One line naming the environments that exist, for a missing ``name``."""
    written = _written(overrides) or f"{GROUP}={name}"
    names = available(config_dir)
    choose = (
        f"choose from {', '.join(names)}"
        if names
        else f"{config_dir / GROUP} holds none (an environment is a file {GROUP}/NAME.yaml there)"
    )
    return UnknownEnvironment(f"{written}: no such environment; {choose}")


def chosen(config_dir: Path, choice: str | None, overrides: Sequence[str]) -> str | None:
    """The environment in effect: ``choice`` (the defaults list's, or ``env=NAME``'s) when its file exists.

    The defaults list marks the group ``optional`` so that a config directory without ``env/`` loads; Hydra
    then skips a missing file silently, so a missing ``env=NAME`` the user asked for is reported here.
    """
    if choice is None:
        return None
    if _NAME.fullmatch(choice) and environment_file(config_dir, choice).is_file():
        return choice
    if _written(overrides) is not None:
        raise unknown_environment(config_dir, choice, overrides)
    return None  # the default named in pipeline.yaml, absent here: no environment


def not_selectable(config_dir: Path, overrides: Sequence[str]) -> UnknownEnvironment:
    """``env=NAME`` given, but ``pipeline.yaml`` has no ``env`` entry in its ``defaults:`` list (or, with an
    ``optional`` entry, there is no ``env/`` directory)."""
    written = _written(overrides) or f"{GROUP}=NAME"
    if not available(config_dir):
        return unknown_environment(config_dir, written.split("=", 1)[-1], overrides)
    return UnknownEnvironment(
        f"{written}: {config_dir / 'pipeline.yaml'} selects no environment; add "
        f"`defaults: [_self_, {{{GROUP}: local}}]` to it and an {GROUP}/ directory beside it"
    )


__all__ = ["GROUP", "UnknownEnvironment", "available", "chosen", "environment_file", "unknown_environment"]
