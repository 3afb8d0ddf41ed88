"""Fetch, verify and atomically publish an MNIST-family dataset artifact (a KFP pipeline component)."""

from data_prepare.__about__ import __version__
from data_prepare.errors import PrepareError
from data_prepare.prepare import PrepareResult, prepare
from data_prepare.spec import IDX_FILES, DatasetSpec

__all__ = ["IDX_FILES", "DatasetSpec", "PrepareError", "PrepareResult", "__version__", "prepare"]
