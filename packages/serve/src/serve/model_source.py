"""Where the model artifact comes from: a local directory, or a ``gs://`` prefix (Vertex's
``AIP_STORAGE_URI``) whose three files are downloaded with google-cloud-storage.

google-cloud-storage honours ``STORAGE_EMULATOR_HOST`` (then with anonymous credentials), which is how the
tests serve the objects from a loopback fake.
"""

from __future__ import annotations

from pathlib import Path

from serve.errors import ServeError

#: The trainer's model artifact (trainer.artifacts): weights, resolved config, metrics with preprocessing.
ARTIFACT_FILES = ("model.pt", "config.yaml", "metrics.json")
GCS_SCHEME = "gs://"
DOWNLOAD_TIMEOUT_S = 120


def split_gcs_uri(uri: str) -> tuple[str, str]:
    """``gs://bucket/some/prefix/`` -> ``("bucket", "some/prefix")``."""
    bucket, _, prefix = uri[len(GCS_SCHEME) :].partition("/")
    if not bucket:
        raise ServeError(f"model_uri {uri} names no bucket (expected gs://BUCKET/PATH)")
    return bucket, prefix.strip("/")


def _storage_client():
    try:
        from google.cloud import storage
    except ImportError:
        raise ServeError(
            "a gs:// model_uri needs google-cloud-storage: pip install 'hydra-vertex-serve[gcs]'"
        ) from None
    try:
        return storage.Client()
    except Exception as exc:  # google.auth raises its own types for missing credentials
        raise ServeError(f"cannot reach Cloud Storage: {exc}") from None


def download_gcs(uri: str, destination: Path) -> Path:
    """Download the artifact's files under ``uri`` into ``destination``; each missing object is named."""
    from google.api_core import exceptions

    bucket_name, prefix = split_gcs_uri(uri)
    bucket = _storage_client().bucket(bucket_name)
    destination.mkdir(parents=True, exist_ok=True)
    for name in ARTIFACT_FILES:
        key = f"{prefix}/{name}" if prefix else name
        where = f"gs://{bucket_name}/{key}"
        try:
            bucket.blob(key).download_to_filename(str(destination / name), timeout=DOWNLOAD_TIMEOUT_S)
        except exceptions.NotFound:
            raise ServeError(
                f"{where} does not exist (the model directory must hold {', '.join(ARTIFACT_FILES)})"
            ) from None
        except Exception as exc:  # permission, network, checksum: one line naming the object
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ServeError(f"cannot download {where}: {reason}") from None
    return destination


def local_model_dir(uri: str) -> Path:
    """A local artifact directory, checked to hold every artifact file."""
    path = Path(uri[len("file://") :] if uri.startswith("file://") else uri).expanduser()
    if not path.exists():
        raise ServeError(f"model directory {uri} does not exist")
    if not path.is_dir():
        raise ServeError(f"model_uri {uri} is not a directory (give the trainer's output directory)")
    missing = [name for name in ARTIFACT_FILES if not (path / name).is_file()]
    if missing:
        raise ServeError(
            f"model directory {uri} has no {', '.join(missing)} (is it a trainer output directory?)"
        )
    return path


def fetch_model(uri: str, scratch: Path) -> Path:
    """The local directory holding the artifact named by ``uri``; ``gs://`` objects go into ``scratch``."""
    if uri.startswith(GCS_SCHEME):
        return download_gcs(uri, scratch)
    if "://" in uri:
        raise ServeError(f"model_uri {uri}: only local directories and gs:// URIs are supported")
    return local_model_dir(uri)
