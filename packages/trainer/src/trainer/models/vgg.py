"""A VGG-style network for GPUs: more arithmetic per image than SmallCNN buys accuracy in the same seconds."""

from __future__ import annotations

import torch
from torch import nn


class VggNet(nn.Module):
    """Stages of ``convs_per_stage`` 3x3 convolutions (BatchNorm, ReLU) at full resolution, each stage ending in
    2x2 max-pooling, then global average pooling, dropout and one linear layer.

    ``channels[i]`` is stage ``i``'s width; three stages take a 28 x 28 image down to 3 x 3.
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        channels: tuple[int, ...] = (64, 128, 256),
        convs_per_stage: int = 2,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        if not channels or convs_per_stage < 1:
            raise ValueError("VggNet needs at least one stage of at least one convolution")
        layers: list[nn.Module] = []
        cin = in_channels
        for cout in channels:
            for _ in range(convs_per_stage):
                layers += [
                    nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                    nn.BatchNorm2d(cout),
                    nn.ReLU(inplace=True),
                ]
                cin = cout
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(cin, num_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
