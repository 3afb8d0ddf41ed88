"""Read each trial's model directory (the trainer's model artifact) into a :class:`Trial`.

A trial succeeded when its directory holds ``model.pt`` and a readable ``metrics.json`` with a numeric
``val_accuracy``; anything else is a failed trial, shown with its reason and never picked.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from select_best.locations import Location

MODEL_FILE = "model.pt"
CONFIG_FILE = "config.yaml"
METRICS_FILE = "metrics.json"


@dataclass(frozen=True)
class Trial:
    """One trial of the sweep: its 1-based ``number`` (sweep order), where it is, and what it produced."""

    number: int
    location: Location
    metrics: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)  # flattened: {"model.optimizer.lr": 0.002, ...}
    error: str | None = None
    config_error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.error is None

    @property
    def val_accuracy(self) -> float | None:
        return _number(self.metrics.get("val_accuracy"))

    @property
    def test_accuracy(self) -> float | None:
        return _number(self.metrics.get("test_accuracy"))

    @property
    def train_time_s(self) -> float | None:
        return _number(self.metrics.get("train_time_s"))

    @property
    def val_curve(self) -> list[float]:
        """Validation accuracy after each epoch (empty when the trial has none)."""
        curve = self.metrics.get("val_accuracy_per_epoch")
        if not isinstance(curve, list):
            return []
        points = [_number(v) for v in curve]
        return [p for p in points if p is not None]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` → ``{"a.b": 1}``; lists and empty mappings stay values."""
    if not isinstance(node, dict) or (not node and prefix):
        return {prefix: node}
    flat: dict[str, Any] = {}
    for key, value in node.items():
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def _read_metrics(directory: Path) -> tuple[dict[str, Any], str | None]:
    path = directory / METRICS_FILE
    if not directory.is_dir():
        return {}, f"no trial directory {directory}"
    try:
        metrics = json.loads(path.read_text())
    except FileNotFoundError:
        return {}, f"no {METRICS_FILE} in {directory} (the trial did not finish)"
    except (OSError, UnicodeDecodeError) as exc:
        return {}, f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}"
    except json.JSONDecodeError as exc:
        return {}, f"{path} is not valid JSON: {exc}"
    if not isinstance(metrics, dict):
        return {}, f"{path} is not a JSON object"
    if _number(metrics.get("val_accuracy")) is None:
        return metrics, f"{path} has no numeric val_accuracy (trained without a validation split?)"
    if not (directory / MODEL_FILE).is_file():
        return metrics, f"no {MODEL_FILE} in {directory}"
    return metrics, None


def _read_config(directory: Path) -> tuple[dict[str, Any], str | None]:
    import yaml
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    path = directory / CONFIG_FILE
    if not path.is_file():
        return {}, f"no {CONFIG_FILE} in {directory}"
    try:
        # resolve=False: the trainer wrote the config resolved; anything still looking like ${...} is data
        loaded = OmegaConf.to_container(OmegaConf.load(path), resolve=False)
    except (
        OSError,
        UnicodeDecodeError,
        yaml.YAMLError,
        OmegaConfBaseException,
        ValueError,
        TypeError,
    ) as exc:
        return {}, f"cannot read {path}: {' '.join(str(exc).split())}"
    if not isinstance(loaded, dict):
        return {}, f"{path} is not a mapping"
    return flatten(loaded), None


def load_trial(number: int, location: Location) -> Trial:
    """Read one trial; never raises for a broken trial, which comes back with ``error`` set."""
    metrics, error = _read_metrics(location.path)
    config, config_error = _read_config(location.path) if location.path.is_dir() else ({}, None)
    return Trial(number, location, metrics, config, error, config_error)


def load_trials(locations: tuple[Location, ...]) -> list[Trial]:
    return [load_trial(i + 1, location) for i, location in enumerate(locations)]
