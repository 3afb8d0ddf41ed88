"""Compose a component's Hydra config with its overrides through Hydra's compose API.

Hydra stops at the first bad override, so a failing composition is bisected over the override list to
find each culprit; the rest are composed again without it. Each composition parses every override with
Hydra's ANTLR grammar, so a component with thousands of them would cost thousands of slow compositions:
plain ``dotted.key=value`` overrides (see :data:`~hydra_yaml_lint.overrides.SIMPLE_OVERRIDE`) of a key
that is not a config group are instead looked up in the config composed with the other overrides. A
missing key in a struct node is an unknown key, an existing untyped leaf accepts any value; only the
rest (typed leaves, whole subtrees, open nodes) go through Hydra. Results are cached per (config,
overrides), and Hydra's global state is saved and restored around each use, so a caller that is itself
a running Hydra app (``pipeline-sdk compile``) is not disturbed.
"""

from __future__ import annotations

import difflib
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from hydra_yaml_lint.hydra_app import ConfigTarget
from hydra_yaml_lint.overrides import SIMPLE_OVERRIDE

_MAX_KEYS = 50_000
MAX_SUGGESTIONS = 50  # as many as the linter shows per rule and file
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
    if not candidates:
        return None
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
    if deleted:
        key = deleted["key"]
        closest = did_you_mean(key, candidates)
        return True, f"unknown config key '{key}'" + (f" (did you mean '{closest}'?)" if closest else "")
    if overridden and _MISSING_IN_CAUSE.search(cause):
        return True, _unknown_key_message(overridden["key"], candidates)
    lines = [line.strip().rstrip(".") for line in (text.splitlines()[:1] + cause.splitlines()[:1])]
    return False, ": ".join(line for line in lines if line) or type(error).__name__


def _named_culprit(error: Exception, keys: Sequence[str | None], remaining: list[int]) -> int | None:
    """The override Hydra's message names, when exactly one remaining override has that key."""
    from hydra.errors import MissingConfigException

    named: str | None
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

    A clean component costs one composition (two when some plain overrides need Hydra's verdict).
    """
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    failures = (HydraException, OmegaConfBaseException, ValueError, TypeError, KeyError, OSError)
    with _hydra_for(target) as compose:

        def attempt(indices: Sequence[int]) -> tuple[Any, Exception | None]:
            try:
                chosen = [overrides[i] for i in indices]
                return compose(config_name=target.config_name, overrides=chosen), None
            except failures as error:
                return None, error

        plain = _plain_overrides(overrides, keys)
        fast = set(plain)
        others = [index for index in range(len(overrides)) if index not in fast]
        config, error = attempt(others)
        if error is not None and attempt(())[1] is not None:
            _, message = _describe(attempt(())[1] or error, "", [])
            if not message.startswith("config "):
                message = f"cannot compose config '{target.config_name}': {message}"
            return (ComposeFinding(-1, False, message),)
        culprits: list[tuple[int, Exception]] = []
        if error is not None:
            config, culprits = _culprits(attempt, others, keys)
        status = {index: _plain_status(config, keys[index] or "") for index in plain}
        unknown = [index for index in plain if status[index] == "unknown"]
        to_hydra = [index for index in plain if status[index] == "hydra"]
        if to_hydra:
            kept = sorted({*others} - {index for index, _ in culprits} | {*to_hydra})
            config, more = _culprits(attempt, kept, keys)
            culprits += more
        candidates: list[str] | None = None
        findings: list[ComposeFinding] = []
        for index, culprit_error in culprits:
            candidates = candidates if candidates is not None else _flat_keys(config)
            is_unknown, message = _describe(culprit_error, overrides[index], candidates)
            findings.append(ComposeFinding(index, is_unknown, message))
        for position, index in enumerate(unknown):
            candidates = candidates if candidates is not None else _flat_keys(config)
            # a suggestion costs a fuzzy match against every key; past the findings shown, none is made
            hints = candidates if position < MAX_SUGGESTIONS else []
            findings.append(ComposeFinding(index, True, _unknown_key_message(keys[index] or "", hints)))
    return tuple(sorted(findings, key=lambda finding: finding.index))


def _culprits(
    attempt: Callable[[Sequence[int]], tuple[Any, Exception | None]],
    indices: list[int],
    keys: Sequence[str | None],
) -> tuple[Any, list[tuple[int, Exception]]]:
    """The config composed without the failing overrides among ``indices``, and those overrides with
    their errors: the one Hydra's message names, or else the one found by bisecting the list."""
    remaining = list(indices)
    config, error = attempt(remaining)
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
    return config, culprits


def _is_group(key: str, subgroups: dict[str, frozenset[str] | None]) -> bool:
    """Whether ``key`` names a config group. Groups nest like directories: the subgroups of each group
    are listed once per composition (cached in ``subgroups``; None: cannot tell, so treat as a group)."""
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.object_type import ObjectType

    parent = ""
    for part in key.split("."):
        if parent not in subgroups:
            repository = getattr(GlobalHydra.instance().config_loader(), "repository", None)
            subgroups[parent] = (
                frozenset(repository.get_group_options(parent, results_filter=ObjectType.GROUP))
                if repository is not None
                else None
            )
        children = subgroups[parent]
        if children is None:
            return True
        if part not in children:
            return False
        parent = f"{parent}/{part}" if parent else part
    return True


def _is_plain(text: str, key: str | None, groups: dict[str, frozenset[str] | None]) -> bool:
    """A ``dotted.key=value`` change of a config key (not a group, not Hydra's own settings)."""
    match = SIMPLE_OVERRIDE.fullmatch(text)
    return (
        match is not None
        and not match["prefix"]
        and key is not None
        and not key.startswith("hydra.")
        and not _is_group(key, groups)
    )


def _plain_overrides(overrides: Sequence[str], keys: Sequence[str | None]) -> list[int]:
    """The plain overrides whose key no other override touches (Hydra applies overrides in order, so
    ``a.b=1`` then ``~a.b=2``, or ``a.b=[1]`` then ``a.b={x: 1}``, must be composed together)."""
    groups: dict[str, frozenset[str] | None] = {}
    bare = [key.split("@")[0] if key else None for key in keys]

    def touched_by_another(index: int) -> bool:
        key = bare[index] or ""
        return any(
            other is not None and (other == key or other.startswith(f"{key}.") or key.startswith(f"{other}."))
            for position, other in enumerate(bare)
            if position != index
        )

    return [
        index
        for index in range(len(overrides))
        if _is_plain(overrides[index], keys[index], groups) and not touched_by_another(index)
    ]


def _plain_status(config: Any, key: str) -> str:
    """``"ok"`` (an untyped leaf or a new key in an open node: any value goes), ``"unknown"`` (missing
    from a struct node) or ``"hydra"`` (let Hydra decide: a typed leaf, a subtree, anything unusual)."""
    from omegaconf import AnyNode, DictConfig, OmegaConf

    node: Any = config
    parts = key.split(".")
    for position, part in enumerate(parts):
        if not isinstance(node, DictConfig):
            return "hydra"
        try:
            child = node._get_node(part, validate_access=False)
        except Exception:  # a private OmegaConf API: when in doubt, ask Hydra
            return "hydra"
        if child is None:
            return "unknown" if OmegaConf.is_struct(node) else "ok"
        if position == len(parts) - 1:
            return "ok" if type(child) is AnyNode else "hydra"
        node = child
    return "hydra"


def _unknown_key_message(key: str, candidates: list[str]) -> str:
    hint = did_you_mean(key, candidates)
    suggestion = f" (did you mean '{hint}'?)" if hint else ""
    return f"unknown config key '{key}'{suggestion}; to add a new key write '+{key}=...'"
