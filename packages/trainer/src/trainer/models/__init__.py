"""Networks the trainer can fit: ``model=cnn`` (default) and ``model=mlp`` (the template's SimpleDenseNet)."""

from trainer.models.cnn import SmallCNN
from trainer.models.mlp import SimpleDenseNet

__all__ = ["SimpleDenseNet", "SmallCNN"]
