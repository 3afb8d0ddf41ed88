"""Checks made before anything is sent: each failure is one :class:`PreflightError` line.

Region, accelerators, the ``gs://`` pipeline root and its bucket (read-only: pipeline-sdk never creates
buckets or edits IAM, which ``aiplatform.PipelineJob.submit()`` would), GCP labels, and whether the
backend can pull every image (``localhost/`` refused outright; tags and digests looked up in their
registries, Docker Registry HTTP API v2, when ``--check-images``, the default).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pipeline_sdk.accelerators import validate_accelerator_type
from pipeline_sdk.cloud.failures import reporting
from pipeline_sdk.cloud.registry import image_exists
from pipeline_sdk.errors import ConfigError, PreflightError, SubmitError, one_line
from pipeline_sdk.images.reference import ImageRef

_GCS_URI = re.compile(r"^gs://(?P<bucket>[a-z0-9][a-z0-9._-]{1,220}[a-z0-9])(?:/(?P<path>.*))?$")
_LABEL_MAX = 63
_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
_BUCKET_ADVICE = "raise --timeout, or pass --skip-bucket-check"


def _suggest(value: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(value, choices, n=3, cutoff=0.6)
    return f"did you mean {', '.join(close)}?" if close else f"choose from {', '.join(sorted(choices))}"


def check_region(region: str | None) -> str:
    """Return ``region`` if Vertex AI serves it (aiplatform's list of regions)."""
    from google.cloud.aiplatform.constants.base import SUPPORTED_REGIONS

    if not region:
        raise PreflightError("gcp.region is not set; pass gcp.region=REGION, e.g. gcp.region=us-central1")
    if region not in SUPPORTED_REGIONS:
        raise PreflightError(
            f"gcp.region={region} is not a Vertex AI region; {_suggest(region, list(SUPPORTED_REGIONS))}"
        )
    return region


def bucket_of(pipeline_root: str | None) -> str:
    """Return the bucket of a ``gs://BUCKET/PATH`` pipeline root, rejecting anything else."""
    if not pipeline_root:
        raise PreflightError(
            "gcp.pipeline_root is not set; Vertex AI writes the run's artifacts there: "
            "pass gcp.pipeline_root=gs://BUCKET/PATH"
        )
    match = _GCS_URI.match(pipeline_root)
    if not match:
        raise PreflightError(
            f"gcp.pipeline_root={pipeline_root} is not a Cloud Storage URI; Vertex AI needs gs://BUCKET/PATH"
        )
    return match["bucket"]


def accelerators(spec: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Yield ``(where, accelerator type)`` for every executor of a compiled spec that asks for one, and for
    every worker pool of a CustomJob step."""
    from pipeline_sdk.custom_job import worker_pools

    executors = spec.get("deploymentSpec", {}).get("executors", {})
    for name, executor in sorted(executors.items()):
        accelerator = executor.get("container", {}).get("resources", {}).get("accelerator") or {}
        kind = accelerator.get("resourceType") or accelerator.get("type")
        if kind:
            yield name, str(kind)
    for name, component in sorted(spec.get("components", {}).items()):
        for number, pool in enumerate(worker_pools(component)):
            kind = pool.get("machine_spec", {}).get("accelerator_type")
            if kind:
                yield f"{name} worker pool {number}", str(kind)


def check_accelerators(spec: Mapping[str, Any]) -> None:
    """Every literal accelerator type in ``spec`` must be one of Vertex AI's ``AcceleratorType`` names
    (a compiled file from elsewhere may hold any)."""
    for executor, kind in accelerators(spec):
        if "{{" in kind:  # set from a pipeline parameter at run time: Vertex checks it then
            continue
        try:
            validate_accelerator_type(kind, executor)
        except ConfigError as e:
            raise PreflightError(str(e)) from None


def check_bucket(bucket: str, *, project: str, region: str, credentials: Any, timeout: float) -> None:
    """Raise :class:`PreflightError` unless ``gs://bucket`` exists and the credentials can read it."""
    from google.api_core import exceptions as api_exceptions
    from google.cloud import storage

    client = storage.Client(project=project, credentials=credentials)
    try:
        with reporting(
            f"checking pipeline_root bucket gs://{bucket}", "Cloud Storage", timeout, _BUCKET_ADVICE
        ):
            client.bucket(bucket).reload(timeout=timeout, retry=None)
    except api_exceptions.NotFound:
        raise PreflightError(
            f"pipeline_root bucket gs://{bucket} does not exist; create it with "
            f"`gcloud storage buckets create gs://{bucket} --project={project} --location={region}` "
            "(pipeline-sdk never creates buckets or changes their IAM)"
        ) from None
    except api_exceptions.Forbidden as e:
        raise PreflightError(
            f"cannot read pipeline_root bucket gs://{bucket} (403: {one_line(e.message)}); grant the "
            "credentials storage.buckets.get on it (roles/storage.legacyBucketReader, see docs/vertex.md#2-iam), "
            "or pass --skip-bucket-check"
        ) from None
    except api_exceptions.GoogleAPICallError as e:
        raise PreflightError(f"checking pipeline_root bucket gs://{bucket} failed: {one_line(e)}") from None


def label_value(text: str) -> str:
    """Map free text (``0.1.0``, ``1.2.0rc1+local``) onto GCP's label alphabet: ``0-1-0``."""
    return re.sub(r"[^a-z0-9_-]", "-", text.lower())[:_LABEL_MAX]


def label_key(name: str) -> str:
    """A distribution name (``hydra-vertex-trainer``, ``My.Component``) as a GCP label key: lowercase,
    ``[a-z0-9_-]``, starting with a letter, at most 63 characters."""
    key = label_value(name)
    return key if key[:1].isalpha() else f"p-{key}"[:_LABEL_MAX]


def build_labels(user: Mapping[str, object], versions: Mapping[str, str]) -> dict[str, str]:
    """Merge ``user`` labels with one ``<distribution>: <version>`` label per package
    (``hydra-vertex-trainer: 0-1-0``, the name its image and ``pip`` use); user labels win.

    Raises :class:`PreflightError` for a user label that breaks GCP's rules (lowercase key starting with a
    letter, ``[a-z0-9_-]``, at most 63 characters), so the API never sees it.
    """
    labels = {label_key(name): label_value(version) for name, version in versions.items()}
    for key, value in user.items():
        text = "" if value is None else str(value)
        if not _LABEL_KEY.match(str(key)) or not _LABEL_VALUE.match(text):
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

    versions = {"hydra-vertex-pipeline-sdk": __version__}
    for package, image in sorted(images.items()):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            tag = ImageRef.parse(image).tag
            if tag:
                versions[package] = tag
    return versions


def check_in_registries(images: Mapping[str, str], backend: str) -> None:
    """Raise :class:`PreflightError` naming every image that only exists in local storage."""
    local = [
        f"{package} ({image})"
        for package, image in sorted(images.items())
        if ImageRef.parse(image).local_only
    ]
    if local:
        raise PreflightError(
            f"{backend} cannot pull {', '.join(local)}: localhost/ names this machine's local image storage, "
            "not a registry; push the images with `pipeline-sdk build-images --registry REGISTRY --push` and "
            "set images.registry=REGISTRY (e.g. us-central1-docker.pkg.dev/PROJECT/REPO), or pass "
            "--no-check-images"
        )


def check_images(
    images: Mapping[str, str], *, credentials: Any, timeout: float, note: Callable[[str], None]
) -> None:
    """Raise :class:`PreflightError` naming every image whose tag or digest its registry says it lacks;
    ``note`` each image that could not be looked up."""
    import requests

    missing = []
    with requests.Session() as session:
        for package, image in sorted(images.items()):
            ref = ImageRef.parse(image)
            try:
                with reporting(f"image {image} not checked", f"registry {ref.host}", timeout, "moving on"):
                    found = image_exists(ref, credentials=credentials, session=session, timeout=timeout)
            except SubmitError as e:  # the registry cannot be asked from here: say so, do not stop
                note(str(e))
                continue
            if found is None:
                note(
                    f"image {image}: not checked, registry {ref.host} refused to say (the credentials may "
                    "lack roles/artifactregistry.reader, see docs/vertex.md#2-iam; the backend's own identity may still "
                    "pull it)"
                )
            elif not found:
                missing.append(f"{package} ({image})")
    if missing:
        raise PreflightError(
            f"not in the registry: {', '.join(missing)}; build and push them with "
            "`pipeline-sdk build-images --push` (or pass --no-check-images)"
        )
