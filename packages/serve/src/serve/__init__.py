"""Vertex AI custom serving container for the trainer's image classifiers.

>>> from serve import Settings, run
>>> run(Settings(model_uri="path/to/trainer/output", port=8080))  # serves until SIGTERM or Ctrl-C

The predictions come from :class:`trainer.Predictor`, the code path of :func:`trainer.predict`. Names load on
first use: the console script imports nothing of its own before its Ctrl-C guard is in place.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from serve.__about__ import __version__

if TYPE_CHECKING:
    from serve.app import listen, run
    from serve.errors import RequestError, ServeError
    from serve.images import decode_base64, decode_image
    from serve.instances import InputShape, decode_batch, decode_instance, parse_body
    from serve.limits import (
        DEDICATED_ENDPOINT_REQUEST_BYTES,
        MAX_INSTANCES,
        PUBLIC_ENDPOINT_REQUEST_BYTES,
        Limits,
    )
    from serve.model import ServedModel, load_model, resolve_device
    from serve.model_source import ARTIFACT_FILES, download_gcs, fetch_model, split_gcs_uri
    from serve.server import PredictionHandler, PredictionServer, Routes
    from serve.settings import Settings, settings_from_config

_HOMES = {
    "listen": "serve.app",
    "run": "serve.app",
    "RequestError": "serve.errors",
    "ServeError": "serve.errors",
    "decode_base64": "serve.images",
    "decode_image": "serve.images",
    "InputShape": "serve.instances",
    "decode_batch": "serve.instances",
    "decode_instance": "serve.instances",
    "parse_body": "serve.instances",
    "DEDICATED_ENDPOINT_REQUEST_BYTES": "serve.limits",
    "MAX_INSTANCES": "serve.limits",
    "PUBLIC_ENDPOINT_REQUEST_BYTES": "serve.limits",
    "Limits": "serve.limits",
    "ServedModel": "serve.model",
    "load_model": "serve.model",
    "resolve_device": "serve.model",
    "ARTIFACT_FILES": "serve.model_source",
    "download_gcs": "serve.model_source",
    "fetch_model": "serve.model_source",
    "split_gcs_uri": "serve.model_source",
    "PredictionHandler": "serve.server",
    "PredictionServer": "serve.server",
    "Routes": "serve.server",
    "Settings": "serve.settings",
    "settings_from_config": "serve.settings",
}

__all__ = [
    "ARTIFACT_FILES",
    "DEDICATED_ENDPOINT_REQUEST_BYTES",
    "MAX_INSTANCES",
    "PUBLIC_ENDPOINT_REQUEST_BYTES",
    "InputShape",
    "Limits",
    "PredictionHandler",
    "PredictionServer",
    "RequestError",
    "Routes",
    "ServeError",
    "ServedModel",
    "Settings",
    "__version__",
    "decode_base64",
    "decode_batch",
    "decode_image",
    "decode_instance",
    "download_gcs",
    "fetch_model",
    "listen",
    "load_model",
    "parse_body",
    "resolve_device",
    "run",
    "settings_from_config",
    "split_gcs_uri",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'serve' has no attribute {name!r}")
    return getattr(import_module(home), name)
