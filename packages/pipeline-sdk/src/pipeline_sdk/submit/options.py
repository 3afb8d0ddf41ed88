"""Command-line options shared by both backends, and the compiled pipeline they submit."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


class Compiled(Protocol):
    """What ``pipeline_sdk.compiler.compile_pipeline`` returns (only the fields submit reads)."""

    path: Path
    spec: dict[str, Any]
    parameter_values: dict[str, Any]
    images: Mapping[str, str]


def _stdout(line: str) -> None:
    print(line, flush=True)


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class SubmitOptions:
    """``pipeline-sdk submit`` flags."""

    wait: bool = False
    dry_run: bool = False
    timeout: float = 60.0  # every single network wait
    poll_interval: float = 15.0
    wait_timeout: float | None = None  # the whole --wait; None = until the run ends
    check_images: bool = True
    skip_bucket_check: bool = False
    job_id: str | None = None
    echo: Callable[[str], None] = field(default=_stdout, compare=False)
    note: Callable[[str], None] = field(default=_stderr, compare=False)
