"""The floor under the trainer's per-step cost: its ``model=mlp data.batch_size=128`` step in a bare PyTorch loop.

Same work per step as the trainer's default loop: the 55,000 training images of its split
(``data.val_size=5000``, ``split_seed=12345``) resident on the device, normalised with their mean and std; a
new permutation each epoch; batches of 128 gathered with ``index_select`` (last partial batch dropped);
SimpleDenseNet in train mode; cross-entropy; Adam 1e-3 with ``fused=True``; gradients set to None before
each backward; running loss and correct-prediction sums kept on the device, read once per epoch. No Lightning,
no hooks, no logging, no validation. Epoch time is the training loop only, as the trainer's ``RunHistory``
measures it.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
import torch.nn.functional as F

from trainer import load_idx_dataset
from trainer.datamodule import split_indices
from trainer.models import SimpleDenseNet
from trainer.preprocess import normalise_, to_unit_scale


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def floor_epochs(
    data_dir: Path, epochs: int, batch_size: int = 128, seed: int = 0
) -> tuple[list[float], list[float]]:
    """Seconds of each epoch's training loop, and each epoch's training accuracy (read at the epoch's end, as
    the trainer reads it to log ``train/acc``)."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(seed)
    dataset = load_idx_dataset(data_dir)
    _, fit_idx = split_indices(len(dataset.train_labels), 5000, 12345)
    images = to_unit_scale(torch.from_numpy(dataset.train_images[fit_idx.numpy()]).to(device))
    images = normalise_(images, float(images.mean()), float(images.std()))
    labels = torch.from_numpy(dataset.train_labels[fit_idx.numpy()]).to(device)
    net = SimpleDenseNet().to(device).train()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, fused=True)
    correct = torch.zeros((), device=device)
    loss_sum = torch.zeros((), device=device)
    steps = len(labels) // batch_size
    generator = torch.Generator().manual_seed(seed)
    times, accuracies = [], []
    for _ in range(epochs):
        correct.zero_()
        loss_sum.zero_()
        _sync(device)
        started = time.perf_counter()
        order = torch.randperm(len(labels), generator=generator).to(device, non_blocking=True)
        for start in range(0, steps * batch_size, batch_size):
            index = order[start : start + batch_size]
            x, y = torch.index_select(images, 0, index), torch.index_select(labels, 0, index)
            optimizer.zero_grad(set_to_none=True)
            logits = net(x)
            loss = F.cross_entropy(logits, y)
            with torch.no_grad():
                correct += (logits.argmax(dim=1) == y).sum()
                loss_sum.add_(loss.detach(), alpha=len(y))
            loss.backward()
            optimizer.step()
        accuracies.append(round(float(correct) / (steps * batch_size), 4))
        _sync(device)
        times.append(round(time.perf_counter() - started, 4))
    return times, accuracies
