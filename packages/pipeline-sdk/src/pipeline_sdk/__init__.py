"""Assemble, compile, run locally and submit the Hydra-configured training pipeline.

The public names below are imported on first use, so ``import pipeline_sdk`` (and ``pipeline-sdk --help``)
stays free of Hydra, kfp and aiplatform.
"""

from __future__ import annotations

import importlib
from typing import Any

from pipeline_sdk.__about__ import __version__

_EXPORTS = {
    "load_config": "pipeline_sdk.config",
    "compile_pipeline": "pipeline_sdk.compiler",
    "CompiledPipeline": "pipeline_sdk.compiler",
    "run_locally": "pipeline_sdk.local",
    "LocalRun": "pipeline_sdk.local",
    "SdkError": "pipeline_sdk.errors",
    "ConfigError": "pipeline_sdk.errors",
    "ParameterError": "pipeline_sdk.errors",
    "CompileError": "pipeline_sdk.errors",
    "LocalRunError": "pipeline_sdk.errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'pipeline_sdk' has no attribute {name!r}")
