"""Use a model artifact: rebuild its network, and predict classes from raw uint8 images."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from trainer.artifacts import CONFIG_FILE, METRICS_FILE, MODEL_FILE
from trainer.errors import TrainerError


def load_model(output_dir: str | Path) -> Any:
    """Rebuild the trained network from a model artifact directory (weights loaded with ``weights_only``).

    The network expects normalised inputs; :func:`predict` does that preprocessing from raw pixels.
    """
    import torch
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    output_dir = Path(output_dir)
    cfg = OmegaConf.load(output_dir / CONFIG_FILE)
    net = instantiate(cfg.model.net)
    net.load_state_dict(torch.load(output_dir / MODEL_FILE, weights_only=True, map_location="cpu"))
    return net.eval()


def predict(
    output_dir: str | Path, images: Any, *, batch_size: int = 1024, device: str = "cpu"
) -> np.ndarray:
    """Predicted class indices for raw ``uint8`` images (N x H x W, pixels 0-255, as in the IDX files).

    Applies the training preprocessing recorded in the artifact's ``metrics.json`` (``/ 255``, then the
    training split's mean and std), so the predictions are those the recorded test accuracy was measured on.
    """
    import torch

    from trainer.preprocess import PIXEL_SCALE, normalise_, to_unit_scale

    output_dir = Path(output_dir)
    preprocessing = json.loads((output_dir / METRICS_FILE).read_text())["preprocessing"]
    if preprocessing.get("pixel_scale", PIXEL_SCALE) != PIXEL_SCALE:
        raise TrainerError(
            f"{output_dir / METRICS_FILE}: unsupported pixel_scale {preprocessing['pixel_scale']}"
        )
    if isinstance(images, torch.Tensor):
        pixels = images
    else:
        array = np.asarray(images)
        pixels = torch.from_numpy(array if array.flags.writeable else array.copy())  # torch wants writable
    if pixels.dtype != torch.uint8:
        raise TrainerError(
            f"predict takes raw uint8 pixels (0-255) as in the dataset files, got {pixels.dtype}; "
            "it divides by 255 and normalises them itself"
        )
    net = load_model(output_dir).to(device)
    predictions = []
    with torch.inference_mode():
        for start in range(0, len(pixels), batch_size):
            batch = to_unit_scale(pixels[start : start + batch_size].to(device))
            logits = net(normalise_(batch, preprocessing["mean"], preprocessing["std"]))
            predictions.append(logits.argmax(dim=1).cpu())
    if not predictions:
        return np.zeros(0, dtype=np.int64)
    return torch.cat(predictions).numpy()
