"""Fast Lightning + Hydra image-classifier trainer: a pipeline component and a standalone library.

>>> from trainer import compose_config, train, predict, load_predictor
>>> metrics = train(compose_config(["data.data_dir=/data/fashion-mnist", "trainer.max_epochs=3"]))
>>> predictor = load_predictor("model_dir")  # an artifact, loaded once; .classify(uint8_images)

Names load on first use: ``import trainer`` (and the console script's start) imports no third-party module,
and torch and lightning load when training starts.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from trainer.__about__ import __version__

if TYPE_CHECKING:
    from trainer.errors import DatasetError, NonFiniteLossError, TrainerError
    from trainer.idx import IdxDataset, load_idx_dataset
    from trainer.inference import Classification, Predictor, load_model, load_predictor, predict
    from trainer.training import compose_config, train

_HOMES = {
    "compose_config": "trainer.training",
    "train": "trainer.training",
    "load_model": "trainer.inference",
    "load_predictor": "trainer.inference",
    "Predictor": "trainer.inference",
    "Classification": "trainer.inference",
    "predict": "trainer.inference",
    "DatasetError": "trainer.errors",
    "NonFiniteLossError": "trainer.errors",
    "TrainerError": "trainer.errors",
    "IdxDataset": "trainer.idx",
    "load_idx_dataset": "trainer.idx",
}

__all__ = [
    "Classification",
    "DatasetError",
    "IdxDataset",
    "NonFiniteLossError",
    "Predictor",
    "TrainerError",
    "__version__",
    "compose_config",
    "load_idx_dataset",
    "load_model",
    "load_predictor",
    "predict",
    "train",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'trainer' has no attribute {name!r}")
    return getattr(import_module(home), name)


def __dir__() -> list[str]:
    return sorted(__all__)
