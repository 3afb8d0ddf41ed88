"""TensorBoard logs where Vertex AI TensorBoard reads them: ``AIP_TENSORBOARD_LOG_DIR``.

Vertex AI sets ``AIP_TENSORBOARD_LOG_DIR`` in a CustomJob that names a TensorBoard instance (its
``tensorboard`` and ``baseOutputDirectory`` fields) to a ``gs://`` directory, and uploads what appears there
to the instance while the job runs. The trainer then adds a TensorBoard logger writing there, beside the
configured loggers. The ``gs://`` URI is written through the job's Cloud Storage FUSE mount (``/gcs/BUCKET``),
so no Cloud Storage client or credentials are involved; a plain path is used as it is.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trainer.errors import TrainerError

ENV = "AIP_TENSORBOARD_LOG_DIR"
#: where Vertex AI custom jobs mount Cloud Storage buckets
GCS_MOUNT = Path("/gcs")


def log_dir_from_env(environ: Mapping[str, str] | None = None, gcs_mount: Path = GCS_MOUNT) -> Path | None:
    """The local directory behind ``AIP_TENSORBOARD_LOG_DIR``; ``None`` when it is unset or empty."""
    value = (os.environ if environ is None else environ).get(ENV, "").strip()
    if not value:
        return None
    if value.startswith("gs://"):
        bucket, _, prefix = value.removeprefix("gs://").partition("/")
        if not bucket:
            raise TrainerError(f"{ENV}={value}: no bucket in the gs:// URI")
        if not (gcs_mount / bucket).is_dir():
            raise TrainerError(
                f"{ENV}={value}: the bucket is not mounted at {gcs_mount / bucket} (Vertex AI custom jobs "
                "mount Cloud Storage there); unset it, or point it at a local directory"
            )
        return gcs_mount / bucket / prefix
    if "://" in value:
        raise TrainerError(f"{ENV}={value}: expected a gs:// URI or a local directory")
    return Path(value)


def vertex_tensorboard_logger(environ: Mapping[str, str] | None = None, gcs_mount: Path = GCS_MOUNT) -> Any:
    """A Lightning ``TensorBoardLogger`` writing to ``AIP_TENSORBOARD_LOG_DIR``, or ``None`` without it."""
    log_dir = log_dir_from_env(environ, gcs_mount)
    if log_dir is None:
        return None
    from lightning.pytorch.loggers import TensorBoardLogger

    try:
        # the event files go straight into the directory: Vertex AI TensorBoard reads it as one run
        return TensorBoardLogger(save_dir=str(log_dir), name="", version="", default_hp_metric=False)
    except ModuleNotFoundError:
        raise TrainerError(
            f"{ENV} is set (Vertex AI TensorBoard) but neither tensorboard nor tensorboardX is installed: "
            "pip install 'hydra-vertex-trainer[tensorboard]'"
        ) from None
