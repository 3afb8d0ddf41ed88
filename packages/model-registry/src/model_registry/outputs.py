"""Where a step's outputs go, and writing them with the ExecutorOutput that tells the backend about them.

Inside a pipeline each output arrives as ``outputs.NAME.path`` / ``outputs.NAME.uri`` (the component's
``{{$.outputs.artifacts['NAME'].path}}`` / ``.uri``); by hand ``paths.output_dir=DIR`` puts them under DIR.
A directory output (``registered_model``, ``endpoint``) holds one JSON file; ``metrics`` is the Metrics
artifact (a JSON object of numbers, also its metadata), ``report`` a Markdown file. Everything is written at
the end, all or nothing (:mod:`atomic`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model_registry.atomic import write_all
from model_registry.errors import RegistryError
from model_registry.executor_input import output_file, substituted


@dataclass(frozen=True)
class Output:
    """An output artifact's local path and its URI as the pipeline knows it."""

    path: Path
    uri: str


@dataclass(frozen=True)
class Content:
    """What one output receives: ``file`` inside it (a directory output) or None (the output is the file)."""

    body: str | dict[str, Any]
    metadata: dict[str, Any]
    file: str | None = None


def locations(cfg: Any, by_hand: dict[str, str]) -> dict[str, Output]:
    """Each output's location: ``outputs.NAME.path``/``.uri``, or ``paths.output_dir`` / ``by_hand[NAME]``."""
    output_dir = substituted(cfg.paths.get("output_dir"))
    given = {name: substituted(cfg.outputs[name].get("path")) for name in by_hand}
    if output_dir:
        if any(given.values()):
            raise RegistryError("give either paths.output_dir (by hand) or outputs.*.path (in a pipeline)")
        root = Path(output_dir)
        return {name: Output(root / file, str(root / file)) for name, file in by_hand.items()}
    missing = [f"outputs.{name}.path" for name, path in given.items() if not path]
    if missing:
        raise RegistryError(f"nowhere to write: give paths.output_dir=DIR, or {', '.join(missing)}")
    return {
        name: Output(Path(path), substituted(cfg.outputs[name].get("uri")) or str(path))
        for name, path in given.items()
        if path
    }


def check_apart(outputs: dict[str, Output], inputs: list[Path]) -> None:
    """Refuse an output that is, holds or lies inside an input: writing it would change the input."""
    for name, output in outputs.items():
        real = output.path.resolve()
        for source in inputs:
            other = source.resolve()
            if real == other or other in real.parents or real in other.parents:
                raise RegistryError(f"output {name} ({output.path}) overlaps the input {source}")


def publish(kfp_cfg: Any, outputs: dict[str, Output], contents: dict[str, Content]) -> None:
    """Write every output and, in a pipeline, the ExecutorOutput naming them with their metadata."""
    writes: list[tuple[Path, str | dict[str, Any]]] = []
    directories = []
    for name, content in contents.items():
        target = outputs[name].path
        if content.file is not None:
            directories.append(target)
            target = target / content.file
        writes.append((target, content.body))
    destination = output_file(kfp_cfg)
    if destination is not None:
        artifacts = {
            name: {"artifacts": [{"name": name, "uri": outputs[name].uri, "metadata": content.metadata}]}
            for name, content in contents.items()
        }
        writes.append((destination, {"artifacts": artifacts}))
    write_all(writes, tuple(directories))


__all__ = ["Content", "Output", "check_apart", "locations", "publish"]
