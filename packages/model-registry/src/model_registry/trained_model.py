"""The trained model directory: the trainer's output (or select-best's ``best_model``).

It holds ``model.pt`` (the weights), ``config.yaml`` and ``metrics.json``; register-model needs the weights to
exist and reads ``metrics.json``: the promotion metric (``val_accuracy`` by default), the test figures, the
class names and the provenance (dataset and package versions). ``metrics.json`` is read strictly: a regular
file of at most 32 MiB, JSON without ``NaN``/``Infinity``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model_registry.errors import RegistryError

MODEL_FILE = "model.pt"
METRICS_FILE = "metrics.json"
MAX_METRICS_BYTES = 32 << 20


@dataclass(frozen=True)
class TrainedModel:
    """A trained model directory and what its ``metrics.json`` holds."""

    path: Path
    metrics: dict[str, Any]

    def figure(self, metric: str) -> float:
        """The finite number ``metric`` in ``metrics.json``; :class:`RegistryError` otherwise."""
        value = self.metrics.get(metric)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            shown = "absent" if metric not in self.metrics else f"{value!r}"
            raise RegistryError(
                f"{self.path / METRICS_FILE} has no numeric {metric} ({shown}); the promotion compares it"
            )
        return float(value)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _regular_file(path: Path, what: str) -> None:
    if path.is_symlink() or not path.is_file():
        state = "missing" if not path.exists() and not path.is_symlink() else "not a regular file"
        raise RegistryError(f"{path} is {state}: the trained model directory must hold {what}")


def load_trained_model(path: Path) -> TrainedModel:
    """Read the trained model directory ``path``."""
    if not path.is_dir():
        raise RegistryError(f"model.path {path} is not a directory (the trainer's output directory)")
    _regular_file(path / MODEL_FILE, f"{MODEL_FILE} (the weights)")
    metrics_path = path / METRICS_FILE
    _regular_file(metrics_path, f"{METRICS_FILE} (the trainer writes it when training finishes)")
    try:
        if metrics_path.stat().st_size > MAX_METRICS_BYTES:
            raise RegistryError(f"{metrics_path} is larger than {MAX_METRICS_BYTES >> 20} MiB")
        metrics = json.loads(metrics_path.read_bytes(), parse_constant=_refuse_constant)
    except OSError as exc:
        raise RegistryError(f"cannot read {metrics_path}: {exc.strerror or exc}") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, NaN
        raise RegistryError(f"{metrics_path} is not valid JSON: {' '.join(str(exc).split())[:200]}") from None
    if not isinstance(metrics, dict):
        raise RegistryError(f"{metrics_path} is not a JSON object")
    return TrainedModel(path, metrics)


__all__ = ["METRICS_FILE", "MODEL_FILE", "TrainedModel", "load_trained_model"]
