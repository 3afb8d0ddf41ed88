"""Lightning data module that decodes the IDX files once and keeps the whole dataset on the device."""

from __future__ import annotations

import random
from functools import partial
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch

from trainer.augment import augment_batch
from trainer.batches import TensorBatches
from trainer.errors import DatasetError
from trainer.idx import IdxDataset, load_idx_dataset
from trainer.preprocess import channels_first, normalise_, to_unit_scale


class IdxDataModule(pl.LightningDataModule):
    """Train/val/test batches from a dataset directory (see :mod:`trainer.idx`).

    ``batch_size`` is the global batch: with ``W`` DDP processes each takes ``batch_size / W`` images of its
    own shard per step (see :meth:`device_batch_size`); ``eval_batch_size`` is per process (it only bounds
    memory). ``setup`` loads the files with numpy, moves them to the trainer's device as float32, normalises them
    with the training split's mean and std (:mod:`trainer.preprocess`), and holds out ``val_size`` training
    images chosen with ``split_seed`` (independent of the training seed, so the split is the same in every
    run). ``shuffle_seed`` orders the batches and seeds augmentation; when it is ``None`` rank 0 draws one in
    ``setup`` and every rank uses it, so DDP shards stay disjoint. The seed is saved in checkpoints, so a
    resumed run continues the same sequence. ``batches_per_iteration`` training batches go to the module in
    each Lightning loop iteration (a :class:`~trainer.batches.BatchGroup`) when it can take them (see
    :meth:`batches_per_iteration_now`).
    """

    def __init__(
        self,
        data_dir: str,
        batch_size: int = 256,
        eval_batch_size: int = 1024,
        val_size: int = 5000,
        split_seed: int = 12345,
        shuffle_seed: int | None = 0,
        augment: dict[str, Any] | None = None,
        num_classes: int | None = None,
        image_size: int | None = None,
        channels: int | None = None,
        batches_per_iteration: int = 1,
    ) -> None:
        super().__init__()
        if batch_size < 1 or eval_batch_size < 1:
            raise DatasetError(f"data.batch_size must be positive, got {batch_size}")
        if batches_per_iteration < 1:
            raise DatasetError(f"data.batches_per_iteration must be positive, got {batches_per_iteration}")
        self.batches_per_iteration = batches_per_iteration
        self.data_dir = Path(data_dir)
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.val_size = val_size
        self.split_seed = split_seed
        self.shuffle_seed = shuffle_seed
        self.augment = dict(augment or {})
        self.expected_num_classes = num_classes
        self.expected_image_size = image_size
        self.expected_channels = channels
        self.dataset: IdxDataset | None = None
        self.mean = 0.0
        self.std = 1.0
        self._tensors: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def prepare_data(self) -> None:
        # fail fast, before DDP processes start, with a message naming what is missing
        if self.dataset is not None:
            return
        dataset = load_idx_dataset(self.data_dir, num_classes=self.expected_num_classes)
        size = dataset.image_size
        if self.expected_image_size is not None and size != self.expected_image_size:
            raise DatasetError(
                f"data.image_size={self.expected_image_size} but {self.data_dir} has {size}-pixel images"
            )
        if self.expected_channels is not None and dataset.channels != self.expected_channels:
            raise DatasetError(
                f"data.channels={self.expected_channels} but {self.data_dir} has {dataset.channels}-channel "
                "images"
            )
        self.dataset = dataset

    @property
    def class_names(self) -> list[str]:
        self.prepare_data()
        assert self.dataset is not None
        return self.dataset.class_names

    def _device(self) -> torch.device:
        if self.trainer is not None:
            return self.trainer.strategy.root_device
        return torch.device("cpu")

    def setup(self, stage: str | None = None) -> None:
        if self._tensors:
            return
        self.prepare_data()
        ds = self.dataset
        assert ds is not None
        if not 0 <= self.val_size < len(ds.train_labels):
            raise DatasetError(
                f"data.val_size={self.val_size} must be at least 0 and below the "
                f"{len(ds.train_labels)} training images"
            )
        self._agree_on_seed()
        device = self._device()
        train_x = to_unit_scale(channels_first(torch.from_numpy(ds.train_images)).to(device))
        test_x = to_unit_scale(channels_first(torch.from_numpy(ds.test_images)).to(device))
        train_y = torch.from_numpy(ds.train_labels).to(device)
        test_y = torch.from_numpy(ds.test_labels).to(device)
        val_idx, fit_idx = (i.to(device) for i in split_indices(len(train_y), self.val_size, self.split_seed))
        fit_x = train_x[fit_idx]
        self.mean = float(fit_x.mean())
        self.std = float(fit_x.std()) or 1.0
        normalise = partial(normalise_, mean=self.mean, std=self.std)
        self._tensors = {
            "train": (normalise(fit_x), train_y[fit_idx]),
            "val": (normalise(train_x[val_idx]), train_y[val_idx]),
            "test": (normalise(test_x), test_y),
        }

    def _agree_on_seed(self) -> int:
        """``shuffle_seed``, drawn once by rank 0 and shared with every rank when the config leaves it null."""
        if self.shuffle_seed is None:
            seed = random.SystemRandom().randrange(2**31)
            if self.trainer is not None:
                seed = self.trainer.strategy.broadcast(seed, src=0)
            self.shuffle_seed = int(seed)
        return self.shuffle_seed

    def state_dict(self) -> dict[str, Any]:
        return {"shuffle_seed": self.shuffle_seed}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if state_dict.get("shuffle_seed") is not None:
            self.shuffle_seed = int(state_dict["shuffle_seed"])

    def _rank_world(self) -> tuple[int, int]:
        if self.trainer is None:
            return 0, 1
        return self.trainer.global_rank, self.trainer.world_size

    def _epoch(self) -> int:
        return self.trainer.current_epoch if self.trainer is not None else 0

    def _transform(self) -> Any:
        max_shift = int(self.augment.get("max_shift", 0) or 0)
        hflip = bool(self.augment.get("hflip", False))
        if not self.augment.get("enabled", False) or (max_shift == 0 and not hflip):
            return None
        fill = (0.0 - self.mean) / self.std  # a blank pixel after normalisation
        return partial(augment_batch, max_shift=max_shift, hflip=hflip, fill=fill)

    def device_batch_size(self, world_size: int) -> int:
        """Each process's share of ``batch_size``, which is the global batch of one optimiser step.

        Keeping the global batch whatever the number of processes keeps the steps per epoch, the learning-rate
        schedule and the meaning of the learning rate; a batch that does not split evenly is refused.
        """
        if self.batch_size % world_size:
            raise DatasetError(
                f"data.batch_size={self.batch_size} does not split evenly over {world_size} processes "
                f"(devices x nodes): use a multiple of {world_size}"
            )
        return self.batch_size // world_size

    def batches_per_iteration_now(self) -> int:
        """``batches_per_iteration``, or 1 where one Lightning iteration must be one optimiser step.

        Groups need a module that steps its own optimiser and accepts them (``accepts_batch_groups``). Lightning
        options that count batches or steps inside an epoch (``limit_train_batches``, ``val_check_interval``,
        ``max_steps``, checkpoints every N training steps) check them once per iteration, so they get one batch
        per iteration too.
        """
        trainer = self.trainer
        if self.batches_per_iteration == 1 or trainer is None:
            return 1
        module = trainer.lightning_module
        if not getattr(module, "accepts_batch_groups", False) or module.automatic_optimization:
            return 1
        counted = (
            not _whole_epoch(trainer.limit_train_batches)
            or not _whole_epoch(trainer.val_check_interval)
            or trainer.max_steps != -1
            or any(getattr(callback, "_every_n_train_steps", 0) for callback in trainer.callbacks)
        )
        return 1 if counted else self.batches_per_iteration

    def train_dataloader(self) -> TensorBatches:
        images, labels = self._tensors["train"]
        rank, world = self._rank_world()
        if len(labels) < self.batch_size:
            raise DatasetError(
                f"data.batch_size={self.batch_size} is larger than the {len(labels)} training images"
            )
        return TensorBatches(
            images,
            labels,
            self.device_batch_size(world),
            shuffle=True,
            drop_last=True,
            seed=self._agree_on_seed(),
            epoch_fn=self._epoch,
            rank=rank,
            world_size=world,
            transform=self._transform(),
            group=self.batches_per_iteration_now(),
        )

    def _eval(self, split: str) -> TensorBatches:
        images, labels = self._tensors[split]
        rank, world = self._rank_world()
        return TensorBatches(images, labels, self.eval_batch_size, rank=rank, world_size=world)

    def val_dataloader(self) -> TensorBatches | list[Any]:
        return self._eval("val") if self.val_size > 0 else []

    def test_dataloader(self) -> TensorBatches:
        return self._eval("test")


def _whole_epoch(value: object) -> bool:
    # Lightning's float 1.0 is "every batch of the epoch"; an int counts batches, whatever its value
    return isinstance(value, float) and value == 1.0


def split_indices(n: int, val_size: int, split_seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices of the validation and training images among the ``n`` training-file images."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(split_seed))
    return order[:val_size], order[val_size:]
