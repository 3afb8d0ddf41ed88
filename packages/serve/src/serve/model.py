"""The served model: the trainer's :class:`trainer.Predictor`, loaded once, run by one dedicated thread.

Every forward pass runs on the same thread, whatever connection thread asked for it. torch's OpenMP pool
belongs to the thread that calls into it: calls from ever new connection threads would each start a pool
of their own, whose idle workers spin on the cores (:func:`serve.app.run` also makes idle workers sleep).
On 2 cores the two together took a one-image request from ~16 ms to ~1.5 ms.
"""

from __future__ import annotations

import queue
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np

from serve.errors import ServeError
from serve.instances import InputShape
from serve.model_source import fetch_model


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when a CUDA GPU is visible, else ``cpu``; any other torch device is checked."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError) as exc:
        raise ServeError(f"device {device!r} is not a torch device: {exc}") from None
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ServeError(f"device {device!r}: torch sees no CUDA GPU (use device=cpu or device=auto)")
    return device


class InferenceThread:
    """One daemon thread that runs every call given to :meth:`run`, in order.

    A daemon thread, unlike ``ThreadPoolExecutor``'s workers: a worker started while the interpreter exits
    (the model finishing loading just after SIGTERM) would never be told to stop and hold the exit forever.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[Any], Any], Any, Future[Any]]] = queue.SimpleQueue()
        threading.Thread(target=self._work, name="inference", daemon=True).start()

    def _work(self) -> None:
        while True:
            function, argument, future = self._jobs.get()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(function(argument))
                except BaseException as exc:  # handed to the caller
                    future.set_exception(exc)

    def run(self, function: Callable[[Any], Any], argument: Any) -> Any:
        """``function(argument)`` on the inference thread; its result, or its exception raised here."""
        future: Future[Any] = Future()
        self._jobs.put((function, argument, future))
        return future.result()


class ServedModel:
    """A predictor and its inference thread: each batch is one forward pass, batches run one at a time."""

    def __init__(self, predictor: Any, source: str) -> None:
        if predictor.image_size is None:
            raise ServeError(f"{source}: config.yaml records no data.image_size; cannot check image sizes")
        self.predictor = predictor
        self.source = source
        self.shape = InputShape(int(predictor.image_size), int(predictor.channels))
        self._runner = InferenceThread()

    def _classify(self, batch: np.ndarray) -> Any:
        return self.predictor.classify(batch, batch_size=max(len(batch), 1))

    def predict(self, batch: np.ndarray) -> list[dict[str, Any]]:
        """Vertex predictions for a uint8 batch: class index, its name and the softmax scores."""
        result = self._runner.run(self._classify, batch)
        names = self.predictor.class_names
        return [
            {"class": int(c), "label": names[c] if c < len(names) else str(c), "scores": p.tolist()}
            for c, p in zip(result.classes.tolist(), result.probabilities, strict=True)
        ]

    def describe(self) -> str:
        p = self.predictor
        size = f"{self.shape.size}x{self.shape.size}x{self.shape.channels}"
        return f"{type(p.net).__name__}, {len(p.class_names)} classes, {size} images, on {p.device}"


def load_model(uri: str, device: str) -> ServedModel:
    """Fetch and load the artifact at ``uri``, warm it up with one batch, or raise :class:`ServeError`."""
    with tempfile.TemporaryDirectory(prefix="serve-model-") as scratch:
        directory = fetch_model(uri, Path(scratch))
        resolved = resolve_device(device)
        from trainer import load_predictor

        try:
            predictor = load_predictor(directory, resolved)
        except Exception as exc:  # torch, yaml, hydra and json each raise their own types
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ServeError(f"cannot load the model in {uri}: {reason}") from None
    model = ServedModel(predictor, uri)
    shape = model.shape
    warm_up = np.zeros(
        (1, shape.size, shape.size) if shape.channels == 1 else (1, shape.channels, shape.size, shape.size),
        dtype=np.uint8,
    )
    try:
        model.predict(warm_up)
    except Exception as exc:
        raise ServeError(f"the model in {uri} fails on a {shape.size}x{shape.size} image: {exc}") from None
    return model
