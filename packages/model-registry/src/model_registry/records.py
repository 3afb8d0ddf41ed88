"""``registration.json`` (register-model's ``registered_model`` output, deploy-model's input) and
``endpoint.json`` (deploy-model's ``endpoint`` output): what they hold, and reading a registration back.

registration.json, registered::

    {"skipped": false, "model": "projects/P/locations/L/models/ID", "model_id": "ID", "version_id": "3",
     "version_name": "projects/P/locations/L/models/ID@3", "aliases": ["champion", "default"],
     "promoted": true, "promote_alias": "champion", "promote_metric": "val_accuracy", "candidate": 0.85,
     "champion": 0.81, "champion_version": "2", "decision": "...", "artifact_uri": "gs://...",
     "serving_image": "...", "labels": {...}}

and skipped: ``{"skipped": true, "reason": "...", "model_id": ..., "promote_alias": ..., ...}``. ``P`` is the
project as the service names it (usually its number).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from model_registry.errors import RegistryError

REGISTRATION_FILE = "registration.json"
ENDPOINT_FILE = "endpoint.json"
MAX_RECORD_BYTES = 1 << 20
_REQUIRED = {"model": str, "model_id": str, "version_id": str, "version_name": str, "promoted": bool}


def read_registration(directory: Path) -> dict[str, Any]:
    """The registration record in ``directory``, checked for the fields deploy-model uses."""
    path = directory / REGISTRATION_FILE
    try:
        if path.is_symlink() or not path.is_file():
            raise RegistryError(
                f"{path} is missing: registered_model.path must be the directory register-model wrote"
            )
        if path.stat().st_size > MAX_RECORD_BYTES:
            raise RegistryError(f"{path} is larger than {MAX_RECORD_BYTES} bytes")
        record = json.loads(path.read_bytes())
    except OSError as exc:
        raise RegistryError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise RegistryError(f"{path} is not valid JSON: {' '.join(str(exc).split())[:200]}") from None
    if not isinstance(record, dict):
        raise RegistryError(f"{path} is not a JSON object")
    if record.get("skipped") is True:
        return record
    for key, kind in _REQUIRED.items():
        if not isinstance(record.get(key), kind):
            raise RegistryError(f"{path} has no {key} ({kind.__name__}): not written by register-model")
    if record["version_name"] != f"{record['model']}@{record['version_id']}":
        raise RegistryError(f"{path}: version_name {record['version_name']!r} is not model@version_id")
    return record


__all__ = ["ENDPOINT_FILE", "REGISTRATION_FILE", "read_registration"]
