"""In-memory batching and batched augmentation."""

from __future__ import annotations

import torch

from trainer.augment import augment_batch
from trainer.batches import TensorBatches


def _data(n: int = 103) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1), torch.arange(n)


def test_eval_batches_cover_everything_in_order() -> None:
    x, y = _data()
    batches = list(TensorBatches(x, y, 10))
    assert len(batches) == 11 == len(TensorBatches(x, y, 10))
    assert torch.equal(torch.cat([b[1] for b in batches]), y)


def test_training_batches_shuffle_per_epoch_and_repeat_for_same_epoch() -> None:
    x, y = _data()
    epoch = [0]
    batches = TensorBatches(x, y, 10, shuffle=True, drop_last=True, seed=3, epoch_fn=lambda: epoch[0])
    first = torch.cat([b[1] for b in batches])
    assert len(first) == 100 and len(set(first.tolist())) == 100
    assert torch.equal(first, torch.cat([b[1] for b in batches]))
    epoch[0] = 1
    assert not torch.equal(first, torch.cat([b[1] for b in batches]))


def test_ranks_get_disjoint_equal_training_shards() -> None:
    x, y = _data()
    shards = [
        torch.cat([b[1] for b in TensorBatches(x, y, 8, shuffle=True, drop_last=True, rank=r, world_size=3)])
        for r in range(3)
    ]
    assert {len(s) for s in shards} == {32}
    assert len(set(torch.cat(shards).tolist())) == 96


def test_eval_shards_partition_the_split() -> None:
    x, y = _data()
    shards = [torch.cat([b[1] for b in TensorBatches(x, y, 16, rank=r, world_size=2)]) for r in range(2)]
    assert sorted(torch.cat(shards).tolist()) == y.tolist()


def test_images_and_labels_stay_paired_under_transform() -> None:
    x, y = _data()
    for images, labels in TensorBatches(x, y, 7, shuffle=True, transform=lambda t, g: t * 2):
        assert torch.equal(images.view(-1), labels.float() * 2)


def test_shift_moves_content_within_bounds() -> None:
    torch.manual_seed(0)
    images = torch.zeros(64, 1, 9, 9)
    images[:, :, 4, 4] = 1.0
    shifted = augment_batch(images, max_shift=2, fill=-1.0)
    assert shifted.shape == images.shape
    positions = shifted.view(64, -1).argmax(1)
    rows, cols = positions // 9, positions % 9
    assert rows.min() >= 2 and rows.max() <= 6 and cols.min() >= 2 and cols.max() <= 6
    assert len(set(zip(rows.tolist(), cols.tolist(), strict=True))) > 10
    # padding uses the fill value only where content was shifted in
    assert (shifted == -1.0).any()


def test_hflip_mirrors_some_images_only() -> None:
    torch.manual_seed(0)
    images = torch.zeros(64, 1, 4, 4)
    images[..., 0] = 1.0
    flipped = augment_batch(images, hflip=True)
    mirrored = flipped[..., 3].bool().all(dim=(1, 2))
    assert 0 < int(mirrored.sum()) < 64
    assert torch.equal(flipped[~mirrored], images[~mirrored])


def test_transform_generator_depends_on_seed_epoch_and_rank_only() -> None:
    x, y = _data()
    epoch = [0]

    def draws(seed: int, rank: int = 0) -> torch.Tensor:
        batches = TensorBatches(x, y, 10, shuffle=True, seed=seed, epoch_fn=lambda: epoch[0], rank=rank)
        return torch.rand(4, generator=batches.transform_generator())

    first = draws(3)
    torch.manual_seed(123)  # the global generator plays no part
    assert torch.equal(first, draws(3))
    assert not torch.equal(first, draws(4))
    assert not torch.equal(first, draws(3, rank=1))
    epoch[0] = 1
    assert not torch.equal(first, draws(3))


def test_augmentation_draws_from_the_given_generator_only() -> None:
    images = torch.rand(16, 1, 6, 6)
    a = augment_batch(images, torch.Generator().manual_seed(5), max_shift=2, hflip=True)
    torch.manual_seed(0)
    b = augment_batch(images, torch.Generator().manual_seed(5), max_shift=2, hflip=True)
    assert torch.equal(a, b)
    assert not torch.equal(
        a, augment_batch(images, torch.Generator().manual_seed(6), max_shift=2, hflip=True)
    )
