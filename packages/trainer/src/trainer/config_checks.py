"""Check the values of the config keys the trainer knows before anything is built or written.

Lightning and torch reject some bad values only once training has started (``trainer.max_epochs=abc`` fails
inside the fit loop after the model summary; ``model.optimizer.lr=-1`` when the optimiser is built), and some
never (``nan``). Each rule here names the key, the value and what is expected, in one line. Keys that are
absent (an optimiser without ``weight_decay``, a replaced data module) are skipped.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from trainer.errors import TrainerError

Rule = tuple[str, Callable[[Any], bool], str]


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _optional(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: value is None or check(value)


RULES: tuple[Rule, ...] = (
    ("seed", _optional(_integer), "an integer or null"),
    (
        "trainer.max_epochs",
        _optional(lambda v: _integer(v) and (v >= 1 or v == -1)),
        "an integer >= 1, -1 (no limit) or null (Lightning's default)",
    ),
    ("trainer.min_epochs", _optional(lambda v: _integer(v) and v >= 0), "an integer >= 0 or null"),
    ("trainer.log_every_n_steps", lambda v: _integer(v) and v >= 1, "an integer >= 1"),
    (
        "trainer.check_val_every_n_epoch",
        _optional(lambda v: _integer(v) and v >= 1),
        "an integer >= 1 or null",
    ),
    ("trainer.accumulate_grad_batches", lambda v: _integer(v) and v >= 1, "an integer >= 1"),
    ("trainer.gradient_clip_val", _optional(lambda v: _number(v) and v >= 0), "a number >= 0 or null"),
    ("data.batch_size", lambda v: _integer(v) and v >= 1, "an integer >= 1"),
    ("data.eval_batch_size", lambda v: _integer(v) and v >= 1, "an integer >= 1"),
    ("data.batches_per_iteration", lambda v: _integer(v) and v >= 1, "an integer >= 1"),
    ("data.val_size", lambda v: _integer(v) and v >= 0, "an integer >= 0"),
    ("data.split_seed", _integer, "an integer"),
    ("data.shuffle_seed", _optional(_integer), "an integer or null"),
    ("data.num_classes", _optional(lambda v: _integer(v) and v >= 1), "an integer >= 1 or null"),
    ("data.image_size", _optional(lambda v: _integer(v) and v >= 1), "an integer >= 1 or null"),
    ("data.channels", _optional(lambda v: v in (1, 3) and not isinstance(v, bool)), "1, 3 or null"),
    ("data.augment.enabled", lambda v: isinstance(v, bool), "true or false"),
    ("data.augment.max_shift", lambda v: _integer(v) and v >= 0, "an integer >= 0"),
    ("data.augment.hflip", lambda v: isinstance(v, bool), "true or false"),
    ("model.optimizer.lr", lambda v: _number(v) and v > 0, "a finite number > 0"),
    ("model.optimizer.weight_decay", lambda v: _number(v) and v >= 0, "a finite number >= 0"),
    ("model.label_smoothing", lambda v: _number(v) and 0 <= v < 1, "a number in [0, 1)"),
    ("model.compile", lambda v: isinstance(v, bool), "true or false"),
    ("model.channels_last", lambda v: isinstance(v, bool), "true or false"),
)

_MISSING = object()


def check_config(cfg: DictConfig) -> None:
    """Raise :class:`TrainerError` naming the first key whose value breaks its rule."""
    for key, valid, expected in RULES:
        try:
            value = OmegaConf.select(cfg, key, default=_MISSING, throw_on_missing=True)
        except OmegaConfBaseException as exc:  # an interpolation that cannot resolve, a missing value
            raise TrainerError(f"{key}: {' '.join(str(exc).split())}") from None
        if value is not _MISSING and not valid(value):
            raise TrainerError(f"{key}={_show(value)} is not valid: expected {expected}")


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value) if value == "" or value != value.strip() else value
    return str(value)
