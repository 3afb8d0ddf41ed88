"""``pipeline-sdk runs list|show|cancel``: the pipeline's runs on Vertex AI (:mod:`.vertex`) or Kubeflow
Pipelines (:mod:`.kfp`), chosen by ``backend`` as for ``submit``; :mod:`.model` is what both report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline_sdk.runs.model import KFP_STATES, VERTEX_STATES, RunInfo, RunsBackend, TaskInfo

if TYPE_CHECKING:
    from omegaconf import DictConfig


def open_backend(cfg: DictConfig, *, timeout: float, allow_plain_http: bool) -> RunsBackend:
    """The runs of ``cfg.backend`` (credentials and endpoints checked as submit checks them)."""
    if cfg.backend == "kfp":
        from pipeline_sdk.runs.kfp import KfpRuns

        return KfpRuns(cfg, timeout=timeout, allow_plain_http=allow_plain_http)
    from pipeline_sdk.runs.vertex import VertexRuns

    return VertexRuns(cfg, timeout=timeout, allow_plain_http=allow_plain_http)


def backend_states(backend: str) -> tuple[str, ...]:
    """The states ``--state`` takes on ``backend`` (importing no client library)."""
    return KFP_STATES if backend == "kfp" else VERTEX_STATES


__all__ = ["RunInfo", "RunsBackend", "TaskInfo", "backend_states", "open_backend"]
