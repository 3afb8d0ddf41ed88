"""Fast Lightning + Hydra image-classifier trainer: a pipeline component and a standalone library.

>>> from trainer import compose_config, train
>>> metrics = train(compose_config(["data.data_dir=/data/fashion-mnist", "trainer.max_epochs=3"]))

Heavy libraries (torch, lightning) load when training starts, not on import.
"""

from trainer.__about__ import __version__
from trainer.api import compose_config, load_model, train
from trainer.errors import DatasetError, NonFiniteLossError, TrainerError
from trainer.idx import IdxDataset, load_idx_dataset

__all__ = [
    "DatasetError",
    "IdxDataset",
    "NonFiniteLossError",
    "TrainerError",
    "__version__",
    "compose_config",
    "load_idx_dataset",
    "load_model",
    "train",
]
