"""Use a model artifact: rebuild its network, and classify raw uint8 images with the training preprocessing.

:class:`Predictor` is the one inference path: :func:`predict` and the serving container (``hydra-vertex-serve``)
both go through :meth:`Predictor.classify`, so a served prediction is the one the recorded test accuracy was
measured on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trainer.artifacts import CONFIG_FILE, METRICS_FILE, MODEL_FILE
from trainer.errors import TrainerError


def load_model(output_dir: str | Path) -> Any:
    """Rebuild the trained network from a model artifact directory (weights loaded with ``weights_only``).

    The network expects normalised inputs; :func:`predict` does that preprocessing from raw pixels.
    """
    from omegaconf import OmegaConf

    return _build_network(OmegaConf.load(Path(output_dir) / CONFIG_FILE), Path(output_dir))


def _build_network(cfg: Any, output_dir: Path) -> Any:
    import torch
    from hydra.utils import instantiate

    net = instantiate(cfg.model.net)
    net.load_state_dict(torch.load(output_dir / MODEL_FILE, weights_only=True, map_location="cpu"))
    return net.eval()


@dataclass(frozen=True)
class Classification:
    """Per image: the predicted class index and the softmax probability of every class."""

    classes: np.ndarray  # int64, N
    probabilities: np.ndarray  # float32, N x num_classes


def _as_pixels(images: Any) -> Any:
    """``images`` as a uint8 tensor, or :class:`TrainerError` for anything but raw 0-255 pixels."""
    import torch

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
    return pixels


class Predictor:
    """A loaded model artifact: the network on its device and the training preprocessing, loaded once.

    Not safe for concurrent calls from several threads on one device; serialise them (the serving
    container does).
    """

    def __init__(
        self,
        net: Any,
        preprocessing: dict[str, Any],
        class_names: list[str],
        image_size: int | None,
        channels: int,
        device: str,
    ) -> None:
        self.net = net
        self.mean = float(preprocessing["mean"])
        self.std = float(preprocessing["std"])
        self.class_names = list(class_names)
        #: height and width the network takes (``data.image_size``); ``None`` when the artifact omits it
        self.image_size = image_size
        #: colour channels the network takes (1: grey)
        self.channels = channels
        self.device = device

    def check_shape(self, shape: tuple[int, ...]) -> None:
        """Refuse a batch shape other than N x H x W (or N x C x H x W) of the model's size and channels."""
        if len(shape) not in (3, 4):
            raise TrainerError(f"images must be N x H x W or N x C x H x W, got shape {tuple(shape)}")
        channels = shape[1] if len(shape) == 4 else 1
        if channels != self.channels:
            raise TrainerError(f"the model takes {self.channels}-channel images, got {channels} channels")
        size = self.image_size
        if size is not None and tuple(shape[-2:]) != (size, size):
            raise TrainerError(f"the model takes {size}x{size} images, got {shape[-2]}x{shape[-1]}")

    def classify(self, images: Any, *, batch_size: int = 1024) -> Classification:
        """Classes and class probabilities of raw ``uint8`` images (N x H x W, or N x C x H x W; pixels 0-255).

        ``batch_size`` images go through the network at a time; a smaller batch is one forward pass.
        """
        import torch

        from trainer.preprocess import normalise_, to_unit_scale

        pixels = _as_pixels(images)
        if len(pixels) == 0:
            classes = np.zeros(0, dtype=np.int64)
            return Classification(classes, np.zeros((0, len(self.class_names)), dtype=np.float32))
        self.check_shape(tuple(pixels.shape))
        classes, probabilities = [], []
        with torch.inference_mode():
            for start in range(0, len(pixels), batch_size):
                batch = to_unit_scale(pixels[start : start + batch_size].to(self.device))
                logits = self.net(normalise_(batch, self.mean, self.std)).float()
                classes.append(logits.argmax(dim=1).cpu())
                probabilities.append(torch.softmax(logits, dim=1).cpu())
        return Classification(torch.cat(classes).numpy(), torch.cat(probabilities).numpy())

    def probabilities(self, images: Any, *, batch_size: int = 1024) -> np.ndarray:
        """Softmax class probabilities (N x num_classes, float32) of raw ``uint8`` images."""
        return self.classify(images, batch_size=batch_size).probabilities


def _preprocessing(metrics: dict[str, Any], where: Path) -> dict[str, Any]:
    from trainer.preprocess import PIXEL_SCALE

    try:
        preprocessing = metrics["preprocessing"]
        float(preprocessing["mean"]), float(preprocessing["std"])
    except (KeyError, TypeError, ValueError):
        raise TrainerError(f"{where}: no preprocessing mean and std recorded") from None
    if preprocessing.get("pixel_scale", PIXEL_SCALE) != PIXEL_SCALE:
        raise TrainerError(f"{where}: unsupported pixel_scale {preprocessing['pixel_scale']}")
    return preprocessing


def load_predictor(output_dir: str | Path, device: str = "cpu") -> Predictor:
    """Load a model artifact directory (``model.pt``, ``config.yaml``, ``metrics.json``) onto ``device``."""
    from omegaconf import OmegaConf

    output_dir = Path(output_dir)
    metrics = json.loads((output_dir / METRICS_FILE).read_text())
    preprocessing = _preprocessing(metrics, output_dir / METRICS_FILE)
    cfg = OmegaConf.load(output_dir / CONFIG_FILE)
    net = _build_network(cfg, output_dir).to(device)
    image_size = OmegaConf.select(cfg, "data.image_size")
    # data.channels is recorded since colour datasets; older artifacts were grey or name the CNN's input
    channels = OmegaConf.select(cfg, "data.channels") or OmegaConf.select(
        cfg, "model.net.in_channels", default=1
    )
    num_classes = OmegaConf.select(cfg, "data.num_classes")
    class_names = metrics.get("class_names") or [str(i) for i in range(int(num_classes or 0))]
    return Predictor(
        net,
        preprocessing,
        class_names,
        None if image_size is None else int(image_size),
        int(channels),
        str(device),
    )


def predict(
    output_dir: str | Path, images: Any, *, batch_size: int = 1024, device: str = "cpu"
) -> np.ndarray:
    """Predicted class indices for raw ``uint8`` images (N x H x W, pixels 0-255, as in the IDX files; a colour
    model takes N x C x H x W, the dataset files' N x H x W x C transposed).

    Applies the training preprocessing recorded in the artifact's ``metrics.json`` (``/ 255``, then the
    training split's mean and std), so the predictions are those the recorded test accuracy was measured on.
    Loads the artifact on every call; keep a :func:`load_predictor` to classify many batches.
    """
    pixels = _as_pixels(images)  # refuse non-uint8 input before loading anything
    return load_predictor(output_dir, device).classify(pixels, batch_size=batch_size).classes
