"""KFP v2 outputs so Vertex AI renders the run's metrics and confusion matrix.

With kfp installed its own ``Metrics`` / ``ClassificationMetrics`` artifact classes build the metadata;
without it the same JSON is built here (kfp is an optional extra, never required at run time).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from trainer.atomic import check_file_target, write_json
from trainer.errors import TrainerError
from trainer.executor_input import output_file

log = logging.getLogger("trainer")

METRICS_OUTPUT = "metrics"
CLASSIFICATION_OUTPUT = "classification_metrics"


def _confusion_metadata_without_kfp(class_names: list[str], matrix: list[list[int]]) -> dict[str, Any]:
    return {
        "confusionMatrix": {
            "annotationSpecs": [{"displayName": name} for name in class_names],
            "rows": [{"row": [int(v) for v in row]} for row in matrix],
        }
    }


def scalar_metadata(scalars: dict[str, float]) -> dict[str, Any]:
    try:
        from kfp.dsl import Metrics
    except ImportError:
        return {k: float(v) for k, v in scalars.items()}
    artifact = Metrics(name=METRICS_OUTPUT)
    for key, value in scalars.items():
        artifact.log_metric(key, float(value))
    return dict(artifact.metadata)


def confusion_metadata(class_names: list[str], matrix: list[list[int]]) -> dict[str, Any]:
    try:
        from kfp.dsl import ClassificationMetrics
    except ImportError:
        return _confusion_metadata_without_kfp(class_names, matrix)
    artifact = ClassificationMetrics(name=CLASSIFICATION_OUTPUT)
    artifact.log_confusion_matrix(list(class_names), [[int(v) for v in row] for row in matrix])
    return dict(artifact.metadata)


def check_kfp_config(kfp_cfg: Any) -> None:
    """The output files can be written, and an ExecutorOutput has the uri of an output artifact to describe."""
    target = output_file(kfp_cfg)
    if target is not None:
        check_file_target(target, "kfp.output_file")
    for key in ("metrics_path", "classification_metrics_path"):
        if kfp_cfg.get(key):
            check_file_target(Path(kfp_cfg[key]), f"kfp.{key}")
    if target and not (kfp_cfg.get("metrics_uri") or kfp_cfg.get("classification_metrics_uri")):
        raise TrainerError(
            "kfp.output_file (or kfp.executor_input) is set but neither kfp.metrics_uri nor "
            "kfp.classification_metrics_uri is"
        )


def write_kfp_outputs(
    kfp_cfg: Any, scalars: dict[str, float], class_names: list[str], matrix: list[list[int]]
) -> None:
    """Write whichever of the ExecutorOutput (:func:`trainer.executor_input.output_file`), ``kfp.metrics_path``
    and ``kfp.classification_metrics_path`` are set."""
    check_kfp_config(kfp_cfg)
    metrics_md = scalar_metadata(scalars)
    confusion_md = confusion_metadata(class_names, matrix)
    if kfp_cfg.get("metrics_path"):
        write_json(Path(kfp_cfg.metrics_path), metrics_md)
    if kfp_cfg.get("classification_metrics_path"):
        write_json(Path(kfp_cfg.classification_metrics_path), confusion_md)
    target = output_file(kfp_cfg)
    if target is None:
        if kfp_cfg.get("output_file"):
            log.warning(
                "kfp.output_file=%s was not substituted by the pipeline backend and kfp.executor_input names "
                "no output file: the run page will not show the metrics",
                kfp_cfg.output_file,
            )
        return
    outputs: dict[str, Any] = {}
    for name, uri, md in (
        (METRICS_OUTPUT, kfp_cfg.get("metrics_uri"), metrics_md),
        (CLASSIFICATION_OUTPUT, kfp_cfg.get("classification_metrics_uri"), confusion_md),
    ):
        if uri:
            outputs[name] = {"artifacts": [{"name": name, "uri": str(uri), "metadata": md}]}
    write_json(target, {"artifacts": outputs})
