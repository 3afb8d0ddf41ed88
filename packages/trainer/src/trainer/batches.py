"""Mini-batches by indexing tensors that already live on the training device.

An :class:`TensorBatches` is what the data module hands Lightning instead of a DataLoader: iterating it
yields ``(images, labels)`` slices of the resident tensors. No worker processes, no per-sample transforms.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch


class TensorBatches:
    """Iterable of batches over ``images``/``labels``, sharded across ``world_size`` ranks.

    Shuffled iterables draw one permutation per epoch from ``seed`` and the epoch number given by
    ``epoch_fn``, identical on every rank, so each rank takes a disjoint shard and a resumed run sees the
    same order it would have seen. Training shards are cut to equal length so DDP ranks step together.
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
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
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

    def _shard_size(self) -> int:
        n = len(self.labels)
        if self.shuffle or self.drop_last:
            return n // self.world_size
        return len(range(self.rank, n, self.world_size))

    def __len__(self) -> int:
        size = self._shard_size()
        return size // self.batch_size if self.drop_last else -(-size // self.batch_size)

    def _indices(self) -> torch.Tensor:
        n = len(self.labels)
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch_fn())
            order = torch.randperm(n, generator=generator)
        else:
            order = torch.arange(n)
        shard = order[self.rank :: self.world_size][: self._shard_size()]
        return shard.to(self.images.device, non_blocking=True)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        indices = self._indices()
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            index = indices[start : start + self.batch_size]
            # index_select: a third of advanced indexing's cost on the CPU for a batch of MNIST images
            images = torch.index_select(self.images, 0, index)
            if self.transform is not None:
                images = self.transform(images)
            yield images, torch.index_select(self.labels, 0, index)
