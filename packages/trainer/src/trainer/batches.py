"""Mini-batches by indexing tensors that already live on the training device.

An :class:`TensorBatches` is what the data module hands Lightning instead of a DataLoader: iterating it
yields ``(images, labels)`` slices of the resident tensors, or, for training with ``group`` > 1, a
:class:`BatchGroup` of consecutive such batches. No worker processes, no per-sample transforms.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch

Transform = Callable[[torch.Tensor, torch.Generator], torch.Tensor]
Batch = tuple[torch.Tensor, torch.Tensor]


@dataclass
class BatchGroup:
    """Consecutive training batches given to the module in one Lightning loop iteration.

    The module takes one optimiser step per batch, so a run is the same as with one batch per iteration, while
    Lightning's per-iteration work (hooks, fetching, logging checks) is paid once per group. ``first`` is the
    index of the group's first batch in the epoch. A dataclass, so Lightning's batch transfer keeps its type.
    """

    batches: list[Batch]
    first: int


class TensorBatches:
    """Iterable of batches over ``images``/``labels``, sharded across ``world_size`` ranks.

    Shuffled iterables draw one permutation per epoch from ``seed`` and the epoch number given by
    ``epoch_fn``, identical on every rank, so each rank takes a disjoint shard and a resumed run sees the
    same order it would have seen. Training shards are cut to equal length so DDP ranks step together.
    ``transform`` (augmentation) gets its own generator, seeded from ``seed``, the epoch and the rank: each
    epoch's draws are a function of those three, so resuming at an epoch boundary repeats nothing.
    With ``group`` > 1 iteration yields :class:`BatchGroup` s of up to ``group`` batches (the same batches, in
    the same order) and ``len()`` counts groups; :attr:`batches_per_epoch` counts batches either way.
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        batch_size: int,
        *,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int = 0,
        epoch_fn: Callable[[], int] = lambda: 0,
        rank: int = 0,
        world_size: int = 1,
        transform: Transform | None = None,
        group: int = 1,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        if group < 1:
            raise ValueError(f"group must be positive, got {group}")
        self.images = images
        self.labels = labels
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.seed = seed
        self.epoch_fn = epoch_fn
        self.rank = rank
        self.world_size = world_size
        self.transform = transform
        self.group = group

    def _shard_size(self) -> int:
        n = len(self.labels)
        if self.shuffle or self.drop_last:
            return n // self.world_size
        return len(range(self.rank, n, self.world_size))

    @property
    def batches_per_epoch(self) -> int:
        """Batches (optimiser steps, for training) in one epoch of this rank's shard."""
        size = self._shard_size()
        return size // self.batch_size if self.drop_last else -(-size // self.batch_size)

    def __len__(self) -> int:
        return -(-self.batches_per_epoch // self.group)

    def indices(self) -> torch.Tensor:
        """Indices into ``images`` of this rank's shard for the current epoch, in batch order (on the CPU)."""
        n = len(self.labels)
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch_fn())
            order = torch.randperm(n, generator=generator)
        else:
            order = torch.arange(n)
        return order[self.rank :: self.world_size][: self._shard_size()]

    def transform_generator(self) -> torch.Generator:
        """A generator on the images' device seeded from (``seed``, epoch, rank) for this epoch's transform."""
        entropy = np.random.SeedSequence([self.seed % 2**63, self.epoch_fn(), self.rank]).generate_state(1)[0]
        return torch.Generator(device=self.images.device).manual_seed(int(entropy))

    def __iter__(self) -> Iterator[Batch] | Iterator[BatchGroup]:
        if self.group == 1:
            return self._batches()
        return self._groups()

    def _groups(self) -> Iterator[BatchGroup]:
        batches = self._batches()
        for first in range(0, self.batches_per_epoch, self.group):
            count = min(self.group, self.batches_per_epoch - first)
            yield BatchGroup([next(batches) for _ in range(count)], first)

    def _batches(self) -> Iterator[Batch]:
        indices = self.indices().to(self.images.device, non_blocking=True)
        generator = self.transform_generator() if self.transform is not None else None
        for start in range(0, self.batches_per_epoch * self.batch_size, self.batch_size):
            index = indices[start : start + self.batch_size]
            # index_select: cheaper than advanced indexing for gathering whole images
            images = torch.index_select(self.images, 0, index)
            if self.transform is not None:
                assert generator is not None
                images = self.transform(images, generator)
            yield images, torch.index_select(self.labels, 0, index)
