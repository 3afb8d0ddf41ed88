"""Compose a component's Hydra config with its overrides through Hydra's compose API.

Hydra stops at the first bad override, so a failing composition is bisected over the override list to
find each culprit; the rest are composed again without it. Results are cached per (config, overrides),
and Hydra's global state is saved and restored around each use, so a caller that is itself a running
Hydra app (``pipeline-sdk compile``) is not disturbed.
"""

from __future__ import annotations

import difflib
import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from hydra_yaml_lint.hydra_app import ConfigTarget

_MAX_KEYS = 50_000
_NOT_OVERRIDABLE = re.compile(r"Could not override '(?P<key>[^']+)'")
_NAMED_KEY = re.compile(
    r"Could not override '(?P<key>[^']+)'|Could not delete from config\. (?:The value of )?'(?P<deleted>[^']+)'"
    r"|An item is already at '(?P<appended>[^']+)'"
)
# "Key 'x' is not in struct" (plain configs) or "Key 'x' not in 'HydraConf'" (structured configs)
_MISSING_IN_CAUSE = re.compile(r"Key '[^']*' (?:is )?not in (?:struct|'\w+')")
_NOT_DELETABLE = re.compile(r"Could not delete from config\. '(?P<key>[^']+)' does not exist")


@dataclass(frozen=True)
class ComposeFinding:
    """A problem with override ``index`` (-1: the config itself does not compose)."""

    index: int
    unknown_key: bool  # the key (or group option) does not exist
    message: str


@contextmanager
def _hydra_for(target: ConfigTarget) -> Iterator[Any]:
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.initialize import get_gh_backup, restore_gh_from_backup
    from hydra.version import VersionBase

    saved_hydra = get_gh_backup()
    saved_base = VersionBase.instance().getbase()
    GlobalHydra.instance().clear()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if target.version_base == "1.1":
                context = initialize_config_dir(str(target.config_dir), job_name="hydra_yaml_lint")
            else:
                context = initialize_config_dir(
                    str(target.config_dir), job_name="hydra_yaml_lint", version_base=target.version_base
                )
            with context:
                yield compose
    finally:
        if saved_hydra is None:
            GlobalHydra.instance().clear()
        else:
            restore_gh_from_backup(saved_hydra)
        VersionBase.instance().version_base = saved_base


def _flat_keys(config: Any) -> list[str]:
    from omegaconf import OmegaConf

    container = OmegaConf.to_container(config, resolve=False, throw_on_missing=False)
    keys: list[str] = []
    stack: list[tuple[str, Any]] = [("", container)]
    while stack and len(keys) < _MAX_KEYS:
        prefix, node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                path = f"{prefix}.{key}" if prefix else str(key)
                keys.append(path)
                stack.append((path, value))
    return keys


def did_you_mean(key: str, candidates: Sequence[str]) -> str | None:
    """The closest existing key: one with the same last segment if that is unique, else by similarity."""
    leaf = key.rsplit(".", 1)[-1]
    same_leaf = [candidate for candidate in candidates if candidate.rsplit(".", 1)[-1] == leaf]
    if len(same_leaf) == 1:
        return same_leaf[0]
    pool = same_leaf or list(candidates)
    matches = difflib.get_close_matches(key, pool, n=1, cutoff=0.6)
    return matches[0] if matches else None


def _describe(error: Exception, override: str, candidates: list[str]) -> tuple[bool, str]:
    """(is it an unknown key or group option?, message) for one composition failure."""
    from hydra.errors import MissingConfigException

    if isinstance(error, MissingConfigException) and error.missing_cfg_file:
        group, _, option = error.missing_cfg_file.rpartition("/")
        options = list(error.options or [])
        hint = difflib.get_close_matches(option, options, n=1, cutoff=0.5)
        suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
        available = f"; available: {', '.join(options)}" if options else ""
        if group:
            return True, f"unknown option '{option}' for config group '{group}'{suggestion}{available}"
        return True, f"config '{option}' not found{available}"
    text, cause = str(error).strip(), str(error.__cause__ or "").strip()
    overridden = _NOT_OVERRIDABLE.match(text)
    deleted = _NOT_DELETABLE.match(text)
    if (overridden and _MISSING_IN_CAUSE.search(cause)) or deleted:
        key = (overridden or deleted)["key"]  # type: ignore[index]
        hint = did_you_mean(key, candidates)
        suggestion = f" (did you mean '{hint}'?)" if hint else ""
        advice = "" if deleted else f"; to add a new key write '+{key}=...'"
        return True, f"unknown config key '{key}'{suggestion}{advice}"
    lines = [line.strip().rstrip(".") for line in (text.splitlines()[:1] + cause.splitlines()[:1])]
    return False, ": ".join(line for line in lines if line) or type(error).__name__


def _named_culprit(error: Exception, keys: Sequence[str | None], remaining: list[int]) -> int | None:
    """The override Hydra's message names, when exactly one remaining override has that key."""
    from hydra.errors import MissingConfigException

    if isinstance(error, MissingConfigException) and error.missing_cfg_file:
        named = error.missing_cfg_file.rpartition("/")[0]
    else:
        match = _NAMED_KEY.search(str(error))
        named = (match["key"] or match["deleted"] or match["appended"]) if match else None
    if named is None:
        return None
    matches = [index for index in remaining if (keys[index] or "").split("@")[0] == named]
    return matches[0] if len(matches) == 1 else None


@lru_cache(maxsize=512)
def check_overrides(
    target: ConfigTarget, overrides: tuple[str, ...], keys: tuple[str | None, ...]
) -> tuple[ComposeFinding, ...]:
    """Findings for composing ``target`` with ``overrides`` (whose parsed keys are ``keys``).

    A clean component costs one composition. After a failure the culprit is the override Hydra's
    message names, or else it is found by bisecting the list; it is dropped and the rest composed again.
    """
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    failures = (HydraException, OmegaConfBaseException, ValueError, TypeError, KeyError, OSError)
    findings: list[ComposeFinding] = []
    with _hydra_for(target) as compose:

        def attempt(indices: Sequence[int]) -> tuple[Any, Exception | None]:
            try:
                chosen = [overrides[i] for i in indices]
                return compose(config_name=target.config_name, overrides=chosen), None
            except failures as error:
                return None, error

        remaining = list(range(len(overrides)))
        config, error = attempt(remaining)
        if error is None:
            return ()
        base, base_error = attempt(())
        if base_error is not None:
            _, message = _describe(base_error, "", [])
            if not message.startswith("config "):
                message = f"cannot compose config '{target.config_name}': {message}"
            return (ComposeFinding(-1, False, message),)
        culprits: list[tuple[int, Exception]] = []
        while error is not None and remaining:
            culprit = _named_culprit(error, keys, remaining)
            culprit_error: Exception = error
            if culprit is None:
                low, high = 0, len(remaining)  # a prefix of `high` overrides fails, of `low` composes
                while high - low > 1:
                    middle = (low + high) // 2
                    if attempt(remaining[:middle])[1] is None:
                        low = middle
                    else:
                        high = middle
                culprit = remaining[high - 1]
                culprit_error = attempt(remaining[:high])[1] or error
            culprits.append((culprit, culprit_error))
            remaining.remove(culprit)
            config, error = attempt(remaining)
        candidates = _flat_keys(config if config is not None else base)
        for index, culprit_error in culprits:
            unknown, message = _describe(culprit_error, overrides[index], candidates)
            findings.append(ComposeFinding(index, unknown, message))
    return tuple(sorted(findings, key=lambda finding: finding.index))
