"""Where a config key was written, so that every config error points at it.

A key comes from ``pipeline.yaml`` (reported as ``FILE:LINE:COL``, from PyYAML's marks) or from a
command-line override (reported as ``override 'KEY=VALUE'``); an override wins, as it does in Hydra.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pipeline_sdk.errors import one_line


def yaml_error_message(error: BaseException) -> str:
    """A PyYAML syntax error as one line: ``FILE:LINE:COL: YAML syntax error: PROBLEM (CONTEXT at L:C)``."""
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = one_line(getattr(error, "problem", None) or error)
    if mark is None:
        return f"YAML syntax error: {problem}"
    context = getattr(error, "context", None)
    context_mark = getattr(error, "context_mark", None)
    where = ""
    if context and context_mark is not None and context_mark is not mark:
        where = f" ({context} at line {context_mark.line + 1}, column {context_mark.column + 1})"
    return f"{mark.name}:{mark.line + 1}:{mark.column + 1}: YAML syntax error: {problem}{where}"


def _override_key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~").rstrip("@").split("@", 1)[0]


def _file_position(path: Path, key: str) -> tuple[int, int, int] | None:
    """How many parts of ``key`` (dotted) the YAML file writes, and the 1-based line and column of the
    deepest of them (the key itself, or its nearest written parent); None when it writes none."""
    import yaml

    try:
        node = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    found = None
    for depth, part in enumerate(key.split("."), start=1):
        if not isinstance(node, yaml.MappingNode):
            break
        match = next(((k, v) for k, v in node.value if getattr(k, "value", None) == part), None)
        if match is None:
            break
        found = (depth, match[0].start_mark.line + 1, match[0].start_mark.column + 1)
        node = match[1]
    return found


def locate(key: str, config_file: Path, overrides: Sequence[str], layers: Sequence[Path] = ()) -> str:
    """``"override 'K=V'"`` or ``"FILE:LINE:COL"`` for ``key``; ``str(config_file)`` when neither is known.

    ``layers`` are files merged over ``config_file`` (the chosen environment's): the file that writes more
    of the key is named, a layer when both write as much, since its value is the one that counts.
    """
    for override in reversed(overrides):
        written = _override_key(override)
        if written and (key == written or key.startswith(f"{written}.") or written.startswith(f"{key}.")):
            return f"override {override!r}"
    best: tuple[Path, tuple[int, int, int]] | None = None
    for path in (*reversed(layers), config_file):
        position = _file_position(path, key)
        if position is not None and (best is None or position[0] > best[1][0]):
            best = (path, position)
    if best is None:
        return str(config_file)
    return f"{best[0]}:{best[1][1]}:{best[1][2]}"


__all__ = ["locate", "yaml_error_message"]
