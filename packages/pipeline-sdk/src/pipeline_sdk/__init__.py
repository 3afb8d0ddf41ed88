"""Assemble, compile, run locally and submit the Hydra-configured training pipeline."""

from pipeline_sdk.__about__ import __version__

__all__ = ["__version__"]
