"""Run the compiled pipeline on this machine: no cloud account, no Docker."""

from pipeline_sdk.local.record import RunRecord, TaskRecord
from pipeline_sdk.local.runner import LocalRun, run_locally

__all__ = ["LocalRun", "RunRecord", "TaskRecord", "run_locally"]
