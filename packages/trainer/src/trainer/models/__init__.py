"""Networks the trainer can fit: ``model=cnn`` (default), ``model=mlp`` (the template's SimpleDenseNet) and
``model=vgg`` (a wider VGG-style net for GPUs, the ``fashion_mnist_gpu`` preset's)."""

from trainer.models.cnn import SmallCNN
from trainer.models.mlp import SimpleDenseNet
from trainer.models.vgg import VggNet

__all__ = ["SimpleDenseNet", "SmallCNN", "VggNet"]
