"""What the Vertex AI Model Registry accepts as a model ID, a version alias and a label, checked before any
request so that a bad value is one error line at start-up (the sources are in docs/vertex-behaviour.md,
"Model Registry and endpoints")."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from model_registry.errors import RegistryError

#: UploadModelRequest.model_id: up to 63 characters of [a-z0-9_-], not starting with a digit or hyphen
MODEL_ID = re.compile(r"[a-z_][a-z0-9_-]{0,62}")
#: Model.version_aliases: "[a-z][a-zA-Z0-9-]{0,126}[a-z0-9] to distinguish from version_id"
ALIAS = re.compile(r"[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]")
#: the alias the service keeps on exactly one version; register-model moves it with the promotion
DEFAULT_ALIAS = "default"
MAX_LABELS = 64
MAX_LABEL_CHARS = 63
#: an endpoint's display name: up to 128 characters
MAX_DISPLAY_NAME = 128


def check_model_id(value: str, name: str) -> str:
    if not MODEL_ID.fullmatch(value):
        raise RegistryError(
            f"{name} {value!r} is not a Vertex AI model ID: up to 63 characters of a-z, 0-9, _ and -, "
            "not starting with a digit or -"
        )
    return value


def check_alias(value: str, name: str) -> str:
    if not isinstance(value, str) or not ALIAS.fullmatch(value):
        raise RegistryError(
            f"{name}: {value!r} is not a version alias: 2 to 128 characters, [a-z][a-zA-Z0-9-]*[a-z0-9] "
            "(a lowercase letter first, a lowercase letter or digit last)"
        )
    if value == DEFAULT_ALIAS:
        raise RegistryError(
            f"{name}: 'default' is the registry's own alias (one version always holds it); register-model "
            "moves it with the promotion"
        )
    return value


def _label_char(ch: str) -> bool:
    return ch in "_-" or ch.isdigit() or unicodedata.category(ch) in ("Ll", "Lo")


def label_problem(key: str, value: str) -> str | None:
    """Why ``key: value`` is not a valid label, or None."""
    if not isinstance(key, str) or not isinstance(value, str):
        return f"label {key!r}: keys and values are strings"
    if not key or len(key) > MAX_LABEL_CHARS or unicodedata.category(key[0]) not in ("Ll", "Lo"):
        return f"label key {key!r}: 1 to {MAX_LABEL_CHARS} characters, starting with a lowercase letter"
    if not all(map(_label_char, key)):
        return f"label key {key!r}: only lowercase letters, digits, _ and - are allowed"
    if len(value) > MAX_LABEL_CHARS or not all(map(_label_char, value)):
        return (
            f"label {key}={value!r}: a value has up to {MAX_LABEL_CHARS} lowercase letters, digits, _ and -"
        )
    return None


def check_labels(labels: Mapping[str, str], name: str) -> None:
    if len(labels) > MAX_LABELS:
        raise RegistryError(f"{name}: {len(labels)} labels; a model version holds at most {MAX_LABELS}")
    for key, value in labels.items():
        problem = label_problem(key, value)
        if problem:
            raise RegistryError(f"{name}: {problem}")


def label_text(text: str) -> str:
    """``text`` as a label key part or value: lowercase, ``.`` and anything not allowed become ``_``, cut to
    the length limit (for names and versions, where a readable approximation is all that is needed)."""
    lowered = text.lower()
    return "".join(ch if _label_char(ch) else "_" for ch in lowered)[:MAX_LABEL_CHARS]


__all__ = [
    "ALIAS",
    "DEFAULT_ALIAS",
    "MAX_DISPLAY_NAME",
    "MAX_LABELS",
    "MODEL_ID",
    "check_alias",
    "check_labels",
    "check_model_id",
    "label_problem",
    "label_text",
]
