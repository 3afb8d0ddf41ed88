"""Read each trial's model directory (the trainer's model artifact) into a :class:`Trial`.

A trial succeeded when its directory holds ``model.pt`` and a readable ``metrics.json`` with a finite number
under the selection metric (``val_accuracy`` unless configured; an accuracy must lie in [0, 1]); anything
else is a failed trial, shown with its reason and never picked.

A trial's files are untrusted input: each is read only if it is a regular file inside the trial directory
(never through a symlink, never a device or FIFO), within a byte cap; JSON is parsed strictly (no NaN or
Infinity, no integer longer than :data:`MAX_INTEGER_DIGITS`), nesting too deep for the parser fails that
trial only, and curves are bounded to :data:`MAX_CURVE_POINTS` points in [0, 1].
"""

from __future__ import annotations

import errno
import json
import math
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from select_best.criterion import DEFAULT_METRIC, is_accuracy
from select_best.locations import Location
from select_best.untrusted import open_regular

MODEL_FILE = "model.pt"
CONFIG_FILE = "config.yaml"
METRICS_FILE = "metrics.json"
#: the largest metrics.json read (a 1000-class confusion matrix is a few MB) and config.yaml (a few kB)
MAX_METRICS_BYTES = 32 << 20
MAX_CONFIG_BYTES = 1 << 20
MAX_INTEGER_DIGITS = 18
#: epochs of a validation curve that are drawn and compared
MAX_CURVE_POINTS = 1_000


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

    def metric(self, name: str) -> float | None:
        """The finite number under ``name`` in metrics.json, else None."""
        return _number(self.metrics.get(name))

    @property
    def val_accuracy(self) -> float | None:
        return accuracy(self.metrics.get("val_accuracy"))

    @property
    def test_accuracy(self) -> float | None:
        return accuracy(self.metrics.get("test_accuracy"))

    @property
    def train_time_s(self) -> float | None:
        return _number(self.metrics.get("train_time_s"))

    @property
    def val_curve(self) -> list[float]:
        """Validation accuracy after each epoch (empty when the trial has none)."""
        curve = self.metrics.get("val_accuracy_per_epoch")
        if not isinstance(curve, list):
            return []
        points = [accuracy(v) for v in curve[:MAX_CURVE_POINTS]]
        return [p for p in points if p is not None]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def accuracy(value: Any) -> float | None:
    """``value`` as an accuracy: a number in [0, 1], else None."""
    number = _number(value)
    return number if number is not None and 0.0 <= number <= 1.0 else None


def is_regular_file(path: Path) -> bool:
    """Whether ``path`` itself (not what a symlink names) is a regular file."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def read_trial_file(path: Path, limit: int) -> bytes:
    """The bytes of ``path``, a regular file inside a trial: ``OSError`` for a symlink, a device, a FIFO or
    anything over ``limit`` bytes (no read blocks: a FIFO is opened non-blocking and refused)."""
    with open_regular(path) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"larger than {limit} bytes")
    return data


def strict_json(data: bytes) -> Any:
    """``json.loads`` without NaN/Infinity, over-long integers or nesting deeper than the parser takes;
    ``ValueError`` for each."""

    def constant(name: str) -> Any:
        raise ValueError(f"{name} is not a JSON number")

    def integer(text: str) -> int:
        if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
            raise ValueError(f"an integer of {len(text)} digits")
        return int(text)

    def real(text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            raise ValueError(f"{text} is out of range")
        return value

    try:
        return json.loads(data, parse_constant=constant, parse_int=integer, parse_float=real)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` → ``{"a.b": 1}``; lists and empty mappings stay values."""
    if not isinstance(node, dict) or (not node and prefix):
        return {prefix: node}
    flat: dict[str, Any] = {}
    for key, value in node.items():
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def _read_metrics(directory: Path, metric: str) -> tuple[dict[str, Any], str | None]:
    path = directory / METRICS_FILE
    if not directory.is_dir():
        return {}, f"no trial directory {directory}"
    try:
        metrics = strict_json(read_trial_file(path, MAX_METRICS_BYTES))
    except FileNotFoundError:
        return {}, f"no {METRICS_FILE} in {directory} (the trial did not finish)"
    except OSError as exc:
        return {}, f"cannot read {path}: {exc.strerror or exc}"
    except ValueError as exc:  # JSON syntax, NaN, over-long numbers, nesting, bad UTF-8
        return {}, f"{path} is not valid JSON: {' '.join(str(exc).split())[:200]}"
    if not isinstance(metrics, dict):
        return {}, f"{path} is not a JSON object"
    value = metrics.get(metric)
    if _number(value) is None:
        hint = " (trained without a validation split?)" if metric.startswith("val") else ""
        return metrics, f"{path} has no numeric {metric}{hint}"
    if is_accuracy(metric) and accuracy(value) is None:
        return metrics, f"{path}: {metric} {value} is not an accuracy in [0, 1]"
    if not is_regular_file(directory / MODEL_FILE):
        return metrics, f"no {MODEL_FILE} in {directory} (or not a regular file)"
    return metrics, None


def _read_config(directory: Path) -> tuple[dict[str, Any], str | None]:
    import yaml
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    path = directory / CONFIG_FILE
    if not is_regular_file(path):
        return {}, f"no {CONFIG_FILE} in {directory}"
    try:
        text = read_trial_file(path, MAX_CONFIG_BYTES).decode()
        # resolve=False: the trainer wrote the config resolved; anything still looking like ${...} is data
        loaded = OmegaConf.to_container(OmegaConf.create(text), resolve=False)  # OmegaConf's YAML loader
    except RecursionError:
        return {}, f"cannot read {path}: nested too deeply"
    except (
        OSError,
        UnicodeDecodeError,
        yaml.YAMLError,
        OmegaConfBaseException,
        ValueError,
        TypeError,
    ) as exc:
        return {}, f"cannot read {path}: {' '.join(str(getattr(exc, 'strerror', None) or exc).split())[:200]}"
    if not isinstance(loaded, dict):
        return {}, f"{path} is not a mapping"
    return flatten(loaded), None


def load_trial(number: int, location: Location, metric: str = DEFAULT_METRIC) -> Trial:
    """Read one trial, judged on ``metric``; never raises for a broken trial, which comes back with
    ``error`` set."""
    metrics, error = _read_metrics(location.path, metric)
    config, config_error = _read_config(location.path) if location.path.is_dir() else ({}, None)
    return Trial(number, location, metrics, config, error, config_error)


def load_trials(locations: tuple[Location, ...], metric: str = DEFAULT_METRIC) -> list[Trial]:
    """Read every trial, numbered from 1 in the order given, each judged on ``metric``."""
    return [load_trial(i + 1, location, metric) for i, location in enumerate(locations)]
