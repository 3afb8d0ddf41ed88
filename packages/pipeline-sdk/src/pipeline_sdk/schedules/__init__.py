"""``pipeline-sdk schedule``: runs of the pipeline on a cron, on Vertex AI (a ``Schedule``, :mod:`.vertex`)
or Kubeflow Pipelines (a recurring run, :mod:`.kfp`), chosen by ``backend`` as for ``submit``.

:mod:`.cron` checks the time specification, :mod:`.model` is what both backends report, :mod:`.replace` swaps
a schedule for a new spec. Importing this package imports no client library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline_sdk.schedules.model import (
    ScheduleExists,
    ScheduleInfo,
    ScheduleNotFound,
    SchedulesBackend,
    ScheduleSpec,
    ScheduleStateError,
    build_spec,
)

if TYPE_CHECKING:
    from omegaconf import DictConfig


def open_backend(cfg: DictConfig, *, timeout: float, allow_plain_http: bool) -> SchedulesBackend:
    """The schedules of ``cfg.backend`` (credentials and endpoints checked as submit checks them)."""
    if cfg.backend == "kfp":
        from pipeline_sdk.schedules.kfp import KfpSchedules

        return KfpSchedules(cfg, timeout=timeout, allow_plain_http=allow_plain_http)
    from pipeline_sdk.schedules.vertex import VertexSchedules

    return VertexSchedules(cfg, timeout=timeout, allow_plain_http=allow_plain_http)


__all__ = [
    "ScheduleExists",
    "ScheduleInfo",
    "ScheduleNotFound",
    "ScheduleSpec",
    "ScheduleStateError",
    "SchedulesBackend",
    "build_spec",
    "open_backend",
]
