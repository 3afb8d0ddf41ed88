"""lightning-hydra-template's SimpleDenseNet, layer for layer, so speed comparisons are like for like."""

from __future__ import annotations

import torch
from torch import nn


class SimpleDenseNet(nn.Module):
    """784-64-128-64-10 fully connected network with BatchNorm1d and ReLU between layers."""

    def __init__(
        self,
        input_size: int = 784,
        lin1_size: int = 64,
        lin2_size: int = 128,
        lin3_size: int = 64,
        output_size: int = 10,
    ) -> None:
        super().__init__()
        self.model = nn.Sequential(
            nn.Linear(input_size, lin1_size),
            nn.BatchNorm1d(lin1_size),
            nn.ReLU(),
            nn.Linear(lin1_size, lin2_size),
            nn.BatchNorm1d(lin2_size),
            nn.ReLU(),
            nn.Linear(lin2_size, lin3_size),
            nn.BatchNorm1d(lin3_size),
            nn.ReLU(),
            nn.Linear(lin3_size, output_size),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x.flatten(1))
