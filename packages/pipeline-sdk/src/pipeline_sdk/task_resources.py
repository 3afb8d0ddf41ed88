"""The machine a plain (non-CustomJob) task asks for: ``resources`` set on its kfp task."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig

from pipeline_sdk.errors import ConfigError


def apply_resources(task: Any, step_key: str, res: DictConfig) -> None:
    """Accelerator, CPU and memory limits on ``task``; kfp's own checks become config errors."""
    settings = []
    if res.accelerator_type and res.accelerator_count > 0:
        settings += [
            ("accelerator_type", task.set_accelerator_type, res.accelerator_type),
            ("accelerator_count", task.set_accelerator_limit, res.accelerator_count),
        ]
    if res.cpu is not None:
        settings.append(("cpu", task.set_cpu_limit, str(res.cpu)))
    if res.memory is not None:
        settings.append(("memory", task.set_memory_limit, str(res.memory)))
    for key, setter, value in settings:
        try:
            setter(value)
        except ValueError as e:
            raise ConfigError(f"{step_key}.resources.{key}: {value!r}: {e}") from None


__all__ = ["apply_resources"]
