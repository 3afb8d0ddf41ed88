"""Where the trials are read from and where the outputs go: from a KFP executor input, or from plain paths.

Inside a pipeline the component receives the whole executor input (``{{$}}``): the ``trials`` input is an
artifact list (``inputs.artifacts.trials.artifacts[*].uri``), each output has one artifact with a ``uri``,
``outputs.outputFile`` receives the ExecutorOutput JSON, and ``inputs.parameterValues`` holds the input
parameters (the selection's settings, see :mod:`select_best.inputs`). Remote URIs are read through the mounts KFP
backends provide (``gs://B/P`` is ``/gcs/B/P`` on Vertex AI, as ``kfp.dsl.Artifact.path`` maps it).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from select_best.errors import SelectError

TRIALS_INPUT = "trials"
BEST_MODEL_OUTPUT = "best_model"
METRICS_OUTPUT = "metrics"
REPORT_OUTPUT = "report"
TABLE_OUTPUT = "table"
OUTPUTS = (BEST_MODEL_OUTPUT, METRICS_OUTPUT, REPORT_OUTPUT, TABLE_OUTPUT)

# the file (or directory) name of each output when run by hand into paths.output_dir
OUTPUT_FILE_NAMES = {
    BEST_MODEL_OUTPUT: "best_model",
    METRICS_OUTPUT: "metrics.json",
    REPORT_OUTPUT: "report.html",
    TABLE_OUTPUT: "table.md",
}

_MOUNTS = {"gs://": "/gcs/", "minio://": "/minio/", "s3://": "/s3/"}


@dataclass(frozen=True)
class Location:
    """An artifact's URI as the pipeline knows it and the local path this process reads or writes."""

    uri: str
    path: Path


@dataclass(frozen=True)
class Locations:
    """The trials to compare (in sweep order), the outputs, and the ExecutorOutput file and the input
    parameters' values (pipelines only)."""

    trials: tuple[Location, ...]
    outputs: dict[str, Location]
    output_file: Path | None = None
    parameter_values: dict[str, Any] = field(default_factory=dict)


def local_path(uri: str) -> Path:
    """The path through which this container reads ``uri`` (a local path stays as it is)."""
    for prefix, mount in _MOUNTS.items():
        if uri.startswith(prefix):
            return Path(mount + uri[len(prefix) :])
    if "://" in uri:
        schemes = ", ".join(_MOUNTS)
        raise SelectError(f"artifact URI {uri!r} is neither a local path nor one of {schemes}")
    if not uri:
        raise SelectError("an artifact has an empty URI")
    return Path(uri)


def check_apart(locations: Locations) -> None:
    """Refuse outputs that are, hold or lie inside a trial directory: writing them would change an input."""
    trials = [(number, Path(os.path.realpath(t.path))) for number, t in enumerate(locations.trials, start=1)]
    outputs = [location.path for location in locations.outputs.values()]
    outputs += [locations.output_file] if locations.output_file is not None else []
    for output in outputs:
        real = Path(os.path.realpath(output))
        for number, trial in trials:
            if real == trial or trial in real.parents or real in trial.parents:
                raise SelectError(
                    f"output {output} overlaps trial {number} ({trial}): the outputs may not be written into "
                    "an input; choose another paths.output_dir"
                )


def load_json_object(text: str, what: str) -> dict[str, Any]:
    """``json.loads`` for one JSON object, with a one-line :class:`SelectError` otherwise."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SelectError(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise SelectError(f"{what} is not a JSON object")
    return value


_REQUIRED = object()


def _get(node: Any, keys: tuple[str, ...], default: Any = _REQUIRED) -> Any:
    """``node[k1][k2]...``; ``default`` where a key is absent, else a :class:`SelectError` naming it."""
    for depth, key in enumerate(keys):
        if not isinstance(node, dict) or key not in node:
            if default is not _REQUIRED:
                return default
            raise SelectError(f"kfp.executor_input has no {'.'.join(keys[: depth + 1])}")
        node = node[key]
    return node


def _uri(artifact: Any, where: str) -> str:
    uri = artifact.get("uri") if isinstance(artifact, dict) else None
    if not isinstance(uri, str):
        raise SelectError(f"kfp.executor_input: {where} has no uri")
    return uri


def from_executor_input(text: str) -> Locations:
    """Read the trials, the outputs and the output file from KFP's executor input JSON."""
    executor_input = load_json_object(text, "kfp.executor_input")
    # an optional input that received nothing (every trial failed upstream) is absent from the JSON
    listed = _get(executor_input, ("inputs", "artifacts", TRIALS_INPUT, "artifacts"), default=[])
    if not isinstance(listed, list):
        raise SelectError("kfp.executor_input: inputs.artifacts.trials.artifacts is not a list")
    trials = []
    for i, artifact in enumerate(listed):
        uri = _uri(artifact, f"trial {i + 1}")
        trials.append(Location(uri, local_path(uri)))
    outputs = {}
    for name in OUTPUTS:
        artifacts = _get(executor_input, ("outputs", "artifacts", name, "artifacts"))
        if not isinstance(artifacts, list) or len(artifacts) != 1:
            raise SelectError(f"kfp.executor_input: output {name} must have exactly one artifact")
        uri = _uri(artifacts[0], f"output {name}")
        outputs[name] = Location(uri, local_path(uri))
    output_file = _get(executor_input, ("outputs", "outputFile"))
    if not isinstance(output_file, str) or not output_file:
        raise SelectError("kfp.executor_input: outputs.outputFile is not a path")
    parameters = _get(executor_input, ("inputs", "parameterValues"), default={})
    if not isinstance(parameters, dict):
        raise SelectError("kfp.executor_input: inputs.parameterValues is not an object")
    return Locations(tuple(trials), outputs, Path(output_file), parameters)


def from_paths(trials: list[str], output_dir: str) -> Locations:
    """Trial directories given by hand, outputs under ``output_dir`` (no ExecutorOutput)."""
    root = Path(output_dir)
    outputs = {name: Location(str(root / file), root / file) for name, file in OUTPUT_FILE_NAMES.items()}
    return Locations(tuple(Location(str(t), Path(t)) for t in trials), outputs)


def hydra_inert(text: str) -> str:
    """Re-serialise executor-input JSON so Hydra's single-quoted string grammar gives it back unchanged.

    The JSON comes from the pipeline backend, not from Hydra: paths in it may hold ``'``, ``\\`` or ``${``.
    Inside JSON strings ``'`` and ``$`` can be written as ``\\u0027``/``\\u0024``; after that the text has no
    quote to end the Hydra string, no interpolation, and no backslash before a quote.
    """
    value = load_json_object(text, "kfp.executor_input")
    return json.dumps(value, separators=(",", ":")).replace("'", "\\u0027").replace("$", "\\u0024")
