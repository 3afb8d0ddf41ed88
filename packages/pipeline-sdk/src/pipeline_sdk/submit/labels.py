"""GCP resource labels: user labels plus the versions of the packages that built the pipeline."""

from __future__ import annotations

import re
from collections.abc import Mapping

from pipeline_sdk.submit.errors import PreflightError

_MAX = 63
_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")


def label_value(text: str) -> str:
    """Map free text (``0.1.0``, ``1.2.0rc1+local``) onto GCP's label alphabet: ``0-1-0``."""
    return re.sub(r"[^a-z0-9_-]", "-", text.lower())[:_MAX]


def build_labels(user: Mapping[str, object], versions: Mapping[str, str]) -> dict[str, str]:
    """Merge ``user`` labels with one ``<package>: <version>`` label per package; user labels win.

    Raises :class:`PreflightError` for a user label that breaks GCP's rules (lowercase key starting with a
    letter, ``[a-z0-9_-]``, at most 63 characters), so the API never sees it.
    """
    labels = {key: label_value(version) for key, version in versions.items()}
    for key, value in user.items():
        text = "" if value is None else str(value)
        if not _KEY.match(str(key)) or not _VALUE.match(text):
            raise PreflightError(
                f"gcp.labels: {key}={text!r} is not a valid GCP label (keys start with a lowercase letter; "
                "keys and values use only a-z, 0-9, '_' and '-', at most 63 characters)"
            )
        labels[str(key)] = text
    return labels


def package_versions(images: Mapping[str, str]) -> dict[str, str]:
    """pipeline-sdk's version plus each component package's: installed version, else its image tag."""
    from importlib.metadata import PackageNotFoundError, version

    from pipeline_sdk.__about__ import __version__

    versions = {"pipeline-sdk": __version__}
    for package, image in sorted(images.items()):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            name_and_tag = image.rsplit("/", 1)[-1]
            if "@" not in name_and_tag and ":" in name_and_tag:
                versions[package] = name_and_tag.rsplit(":", 1)[1]
    return versions
