"""The labels register-model writes on a model version, and reading the promotion figure back from them.

A label value holds only lowercase letters, digits, ``_`` and ``-`` (at most 63 characters), so a metric is
written as Python's shortest round-trip text of the float (``repr``) with ``.`` as ``_`` and without ``+``:
``0.81201171875`` -> ``0_81201171875``, ``1e-05`` -> ``1e-05``, ``1.5e+20`` -> ``1_5e20``. Reading it back
gives the identical float, which is what makes the champion's figure exact.

A version's labels are trusted as its own only when its ``artifact-uri-sha256`` label matches its own
``artifactUri``: labels can also come from the model as a whole (the service merges model and version labels
when it returns a version, UpdateModelRequest in aiplatform_v1), from another tool, or be edited by hand.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from typing import Any

from model_registry.__about__ import __version__
from model_registry.errors import RegistryError
from model_registry.naming import MAX_LABEL_CHARS, check_labels, label_text

METRIC_PREFIX = "metric-"
PACKAGE_PREFIX = "pkg-"
ARTIFACT_LABEL = "artifact-uri-sha256"
WEIGHTS_LABEL = "weights-sha256"
DATASET_LABEL = "dataset"
RESERVED_KEYS = (ARTIFACT_LABEL, WEIGHTS_LABEL, DATASET_LABEL)
#: metrics.json keys written as labels (when numeric), besides the promotion metric
LABELLED_METRICS = ("val_accuracy", "best_val_accuracy", "test_accuracy", "test_loss")
_ENCODED_FLOAT = re.compile(r"-?[0-9]+(?:_[0-9]+)?(?:e-?[0-9]+)?")
#: hex digits of a SHA-256 kept in a label (128 bits)
_DIGEST_CHARS = 32


def encode_float(value: float) -> str:
    """A finite float as a label value that :func:`decode_float` turns back into the identical float."""
    if not math.isfinite(value):
        raise ValueError(f"{value!r} is not finite")
    return repr(float(value)).replace(".", "_").replace("+", "")


def decode_float(text: str) -> float | None:
    """The float :func:`encode_float` wrote, or None for text it cannot have written."""
    if not _ENCODED_FLOAT.fullmatch(text):
        return None
    value = float(text.replace("_", "."))
    return value if math.isfinite(value) else None


def metric_label(metric: str) -> str:
    """The label key of metric ``metric``; :class:`RegistryError` if the name cannot be one as it is."""
    key = METRIC_PREFIX + metric
    if len(key) > MAX_LABEL_CHARS or label_text(metric) != metric:
        raise RegistryError(
            f"promotion metric {metric!r} cannot be stored in a label key ({METRIC_PREFIX}NAME: lowercase "
            f"letters, digits, _ and -, at most {MAX_LABEL_CHARS - len(METRIC_PREFIX)} characters)"
        )
    return key


def artifact_digest(artifact_uri: str) -> str:
    return hashlib.sha256(artifact_uri.rstrip("/").encode()).hexdigest()[:_DIGEST_CHARS]


def check_user_labels(labels: Mapping[str, str], name: str) -> dict[str, str]:
    """``labels`` from the configuration, refused when invalid or when a key is one register-model writes."""
    check_labels(labels, name)
    for key in labels:
        if key.startswith((METRIC_PREFIX, PACKAGE_PREFIX)) or key in RESERVED_KEYS:
            raise RegistryError(
                f"{name}: label {key!r} is written by register-model (keys {METRIC_PREFIX}*, {PACKAGE_PREFIX}*, "
                f"{', '.join(RESERVED_KEYS)}); choose another key"
            )
    return dict(labels)


def version_labels(
    metrics: Mapping[str, Any], promote_metric: str, artifact_uri: str, user_labels: Mapping[str, str]
) -> dict[str, str]:
    """The labels of a new version: the user's, the metrics, the package versions, the artifact digest."""
    labels = dict(user_labels)
    names = list(dict.fromkeys([promote_metric, *LABELLED_METRICS])) if promote_metric else LABELLED_METRICS
    for metric in names:
        value = metrics.get(metric)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            labels[metric_label(metric)] = encode_float(float(value))
    provenance = metrics.get("provenance") if isinstance(metrics.get("provenance"), dict) else {}
    packages = provenance.get("packages") if isinstance(provenance.get("packages"), dict) else {}
    packages = {**packages, "hydra-vertex-model-registry": __version__}
    for package, version in packages.items():
        labels[(PACKAGE_PREFIX + label_text(str(package)))[:MAX_LABEL_CHARS]] = label_text(str(version))
    dataset = provenance.get("dataset") if isinstance(provenance.get("dataset"), dict) else {}
    if isinstance(dataset.get("dataset"), str):
        labels[DATASET_LABEL] = label_text(dataset["dataset"])
    if isinstance(metrics.get("weights_sha256"), str):
        labels[WEIGHTS_LABEL] = label_text(metrics["weights_sha256"])[:_DIGEST_CHARS]
    labels[ARTIFACT_LABEL] = artifact_digest(artifact_uri)
    check_labels(labels, "the version's labels (registry.labels and those register-model adds)")
    return labels


def recorded_figure(labels: Mapping[str, str], artifact_uri: str, metric: str) -> tuple[float | None, str]:
    """The figure of ``metric`` a version's labels record, with the reason when there is none."""
    if labels.get(ARTIFACT_LABEL) != artifact_digest(artifact_uri or ""):
        return None, (
            f"its labels were not written for its artifact ({ARTIFACT_LABEL} does not match its artifactUri): "
            "not registered by register-model, or edited since"
        )
    text = labels.get(metric_label(metric))
    if text is None:
        return None, f"it has no {metric_label(metric)} label (registered with another promotion metric?)"
    value = decode_float(text)
    if value is None:
        return None, f"its {metric_label(metric)} label {text!r} is not a number register-model wrote"
    return value, ""


__all__ = [
    "ARTIFACT_LABEL",
    "METRIC_PREFIX",
    "PACKAGE_PREFIX",
    "artifact_digest",
    "check_user_labels",
    "decode_float",
    "encode_float",
    "metric_label",
    "recorded_figure",
    "version_labels",
]
