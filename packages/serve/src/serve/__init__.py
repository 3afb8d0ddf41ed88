"""Vertex AI custom serving container for the trainer's image classifiers.

>>> from serve import Settings, run
>>> run(Settings(model_uri="path/to/trainer/output", port=8080))  # serves until SIGTERM or Ctrl-C

The predictions come from :class:`trainer.Predictor`, the code path of :func:`trainer.predict`.
"""

from serve.__about__ import __version__
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
