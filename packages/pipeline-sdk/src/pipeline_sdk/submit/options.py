"""What each backend is asked to do (the ``submit`` flags it uses), and the compiled pipeline it submits."""

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
    """The ``pipeline-sdk submit`` flags every backend takes."""

    wait: bool = False
    dry_run: bool = False
    timeout: float = 60.0  # every single network wait
    poll_interval: float = 15.0
    wait_timeout: float | None = None  # the whole --wait; None = until the run ends
    check_images: bool = True
    job_id: str | None = None  # Vertex job ID / KFP run name
    allow_plain_http: bool = False  # credentials to an http:// endpoint other than this machine
    echo: Callable[[str], None] = field(default=_stdout, compare=False)
    note: Callable[[str], None] = field(default=_stderr, compare=False)


@dataclass(frozen=True)
class VertexOptions(SubmitOptions):
    """The flags of ``backend=vertex``: the common ones plus the pipeline_root bucket check."""

    skip_bucket_check: bool = False
