"""When the module may call ``backward`` and the optimiser itself instead of going through Lightning.

``manual_backward`` and ``LightningOptimizer.step`` run the strategy's and the precision plugin's work around
the two calls plus three hooks (``on_before_backward``, ``on_after_backward``, ``on_before_optimizer_step``)
on the module and on every callback, whether or not anything overrides them. On a small model that dispatch
costs a tenth of a step. Where none of it does anything (one process, full or bf16 precision without a
gradient scaler, and no callback or module overriding those hooks or ``backward``) the module calls
``loss.backward()`` and the optimiser's ``step()`` directly, keeping Lightning's optimiser-step count (which
is ``global_step``); the weights are the same bit for bit. Anything else gets Lightning's calls.
"""

from __future__ import annotations

import lightning.pytorch as pl
from lightning.pytorch.core.optimizer import LightningOptimizer
from lightning.pytorch.plugins.precision import MixedPrecision, Precision
from lightning.pytorch.strategies import SingleDeviceStrategy
from lightning.pytorch.utilities.model_helpers import is_overridden

STEP_HOOKS = ("on_before_backward", "on_after_backward", "on_before_optimizer_step")


def can_step_directly(trainer: pl.Trainer, module: pl.LightningModule, optimizer: object) -> bool:
    """Whether skipping Lightning's backward and optimiser-step calls leaves every result unchanged."""
    if type(trainer.strategy) is not SingleDeviceStrategy:
        return False  # DDP and friends prepare the gradient sync in their backward
    plugin = trainer.precision_plugin
    plain = type(plugin) is Precision or (type(plugin) is MixedPrecision and plugin.scaler is None)
    if not plain:
        return False
    if not isinstance(optimizer, LightningOptimizer) or not all(
        callable(getattr(optimizer, name, None)) for name in ("_on_before_step", "_on_after_step")
    ):
        return False  # where Lightning counts optimiser steps (global_step)
    listened = any(
        is_overridden(hook, callback, parent=pl.Callback)
        for callback in trainer.callbacks
        for hook in STEP_HOOKS
    )
    return not listened and not any(
        is_overridden(hook, module, parent=pl.LightningModule) for hook in (*STEP_HOOKS, "backward")
    )


def step_directly(optimizer: LightningOptimizer) -> None:
    """The optimiser's own ``step()``, counted as Lightning counts a manual optimisation step."""
    optimizer._on_before_step()
    optimizer.optimizer.step()
    optimizer._on_after_step()
