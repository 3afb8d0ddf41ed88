"""Which Vertex AI Experiment the trials are recorded in, and the names of their Experiment runs.

In a pipeline the settings are String parameters of the executor input (``inputs.parameterValues``):
``experiment``, ``project``, ``location``, ``api_endpoint`` and ``pipeline_job`` (the pipeline job's ID);
one absent there takes the Hydra config's value, ``experiment.name``, ``experiment.project``,
``experiment.location``, ``experiment.api_endpoint``, ``experiment.run``. An empty experiment records nothing.

Each trial becomes the run ``<run>-trial-<n>`` whose metadata context ID is ``<experiment>-<run name>``, as
aiplatform's ``ExperimentRun.create`` names it; ``<run>`` is the pipeline job's ID made a valid ID (else the
current UTC time), shortened with a hash of itself when an ID would be longer than aiplatform allows.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from select_best.errors import SelectError

#: executor-input parameter -> key under ``experiment`` in the Hydra config
PARAMETERS = {
    "experiment": "name",
    "project": "project",
    "location": "location",
    "api_endpoint": "api_endpoint",
    "pipeline_job": "run",
}
_EXPERIMENT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,127}$")
_NOT_IN_ID = re.compile(r"[^a-z0-9-]")
_PROJECT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.:_-]*$")
_LOCATION = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_HASH_LENGTH = 8


@dataclass(frozen=True)
class ExperimentSettings:
    """Where the trials are recorded: ``name`` '' means nowhere; ``run`` names the runs (``<run>-trial-<n>``)."""

    name: str = ""
    project: str = ""
    location: str = ""
    api_endpoint: str = ""
    run: str = ""

    @property
    def records(self) -> bool:
        """True when the trials are to be recorded: an experiment and a project."""
        return bool(self.name and self.project)

    @property
    def note(self) -> str | None:
        """The line printed when an experiment is set but nothing can be recorded (no project)."""
        if self.name and not self.project:
            return (
                f"note: experiment {self.name} is set but no project: "
                "the trials are not recorded in Vertex AI Experiments"
            )
        return None

    @property
    def store(self) -> str:
        """The Vertex ML Metadata store that holds the experiment."""
        return f"projects/{self.project}/locations/{self.location}/metadataStores/default"

    @property
    def endpoint(self) -> str:
        """The API endpoint: ``api_endpoint``, else the location's regional endpoint."""
        return self.api_endpoint or f"{self.location}-aiplatform.googleapis.com"

    @property
    def console_url(self) -> str:
        """The experiment's runs in the Cloud console."""
        return (
            f"https://console.cloud.google.com/vertex-ai/experiments/locations/{self.location}/experiments/"
            f"{self.name}/runs?project={self.project}"
        )


def _text(value: Any, source: str) -> str:
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(
        value, bool
    ):  # Hydra reads experiment.run=20261206 as a number
        return str(value)
    if not isinstance(value, str):
        raise SelectError(f"{source} is {value!r}: expected a string")
    return value.strip()


def _check(value: str, pattern: re.Pattern[str], source: str, what: str) -> None:
    if not pattern.match(value):
        raise SelectError(f"{source}={value!r} is not {what}")


def run_base(text: str, now: datetime | None = None) -> str:
    """``text`` (a pipeline job's ID) lowercased, every character outside ``[a-z0-9-]`` made ``-``;
    ``''`` gives the UTC time ``YYYYMMDD-HHMMSS``."""
    if not text:
        return (now or datetime.now(timezone.utc)).strftime("%Y%m%d-%H%M%S")
    return _NOT_IN_ID.sub("-", text.lower())


def experiment_settings(
    cfg: Mapping[str, Any], parameter_values: Mapping[str, Any], now: datetime | None = None
) -> ExperimentSettings:
    """The settings from the executor input's parameters, else the ``experiment`` config; checked."""
    values: dict[str, str] = {}
    sources: dict[str, str] = {}
    for parameter, key in PARAMETERS.items():
        found = parameter in parameter_values
        sources[key] = parameter if found else f"experiment.{key}"
        values[key] = _text(parameter_values[parameter] if found else cfg.get(key), sources[key])
    if not values["name"]:
        return ExperimentSettings()
    _check(
        values["name"],
        _EXPERIMENT_NAME,
        sources["name"],
        "a Vertex AI experiment name (lowercase letters, digits and dashes, starting with a letter or digit, "
        "at most 128 characters)",
    )
    if values["project"]:
        _check(values["project"], _PROJECT, sources["project"], "a Google Cloud project ID")
        _check(values["location"], _LOCATION, sources["location"], "a Vertex AI location such as us-central1")
    values["run"] = run_base(values["run"], now)
    return ExperimentSettings(**values)


def run_names(experiment: str, run: str, trials: int, max_length: int) -> list[tuple[str, str]]:
    """``(run name, context ID)`` of trials 1..``trials``: ``<run>-trial-<n>`` and ``<experiment>-<run name>``.

    When the longest ID would exceed ``max_length``, ``run`` becomes a prefix of itself + ``-`` + the first
    8 hex digits of its SHA-256, the same for every trial: the IDs stay unique and the same on a retry.
    """
    room = max_length - len(f"{experiment}--trial-{trials}")
    if len(run) > room:
        if room < _HASH_LENGTH:
            raise SelectError(
                f"experiment name {experiment!r} is too long to name its runs: the run IDs "
                f"(<experiment>-<run>-trial-<n>) may have at most {max_length} characters"
            )
        digest = hashlib.sha256(run.encode()).hexdigest()[:_HASH_LENGTH]
        keep = room - _HASH_LENGTH - 1
        run = f"{run[:keep]}-{digest}" if keep > 0 else digest
    names = [f"{run}-trial-{n}" for n in range(1, trials + 1)]
    return [(name, f"{experiment}-{name}") for name in names]
