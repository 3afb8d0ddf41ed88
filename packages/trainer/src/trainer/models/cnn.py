"""The default network: a small strided CNN sized to train fast on a couple of CPU cores."""

from __future__ import annotations

import torch
from torch import nn


def _conv_bn_relu(cin: int, cout: int, kernel: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class SmallCNN(nn.Module):
    """Strided conv stages (no pooling: downsampling in the convolution is cheaper) and an MLP head.

    ``channels[i]`` output channels in stage ``i``; the first stage uses a 5x5 kernel, the rest 3x3, all with
    stride 2, so a 28 x 28 image reaches the head as ``channels[-1]`` maps of 7 x 7.
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        channels: tuple[int, ...] = (24, 48),
        hidden: int = 128,
        dropout: float = 0.0,
        image_size: int = 28,
    ) -> None:
        super().__init__()
        stages = []
        cin, size = in_channels, image_size
        for i, cout in enumerate(channels):
            kernel = 5 if i == 0 else 3
            stages.append(_conv_bn_relu(cin, cout, kernel, 2))
            cin, size = cout, (size + 1) // 2
        self.features = nn.Sequential(*stages)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(cin * size * size, hidden, bias=False),
            nn.BatchNorm1d(hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
