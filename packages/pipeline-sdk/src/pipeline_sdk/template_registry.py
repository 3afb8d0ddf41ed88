"""KFP template registries (Artifact Registry ``https://LOCATION-kfp.pkg.dev/PROJECT/REPOSITORY``): upload a
compiled pipeline with kfp's ``RegistryClient``, tagged with the version (``pipeline-sdk publish``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline_sdk.cloud.failures import call_with_deadline, reporting
from pipeline_sdk.errors import BackendApiError, PreflightError, one_line


def version_tag(version: str) -> str:
    """The tag a published template gets for a pipeline version: ``0.1.0`` -> ``v0.1.0``."""
    return f"v{version}"


def check_host(host: str | None) -> str:
    if not host or not host.startswith(("https://", "http://")):
        raise PreflightError(
            f"--host {host} is not a template registry URL; Artifact Registry's is "
            "https://LOCATION-kfp.pkg.dev/PROJECT/REPOSITORY (a repository of format KFP)"
        )
    return host.rstrip("/")


def publish_template(
    package: Path, *, host: str, tags: list[str], credentials: Any, timeout: float
) -> tuple[str, str]:
    """Upload ``package``; return ``(package name, version)`` as the registry names them."""
    import requests
    from kfp.registry import RegistryClient

    try:
        with reporting("", f"the template registry {host}", timeout):
            client = RegistryClient(host=host, auth=credentials)
            try:
                return call_with_deadline(
                    lambda: client.upload_pipeline(str(package), tags=tags), timeout, f"uploading to {host}"
                )
            except requests.HTTPError as e:
                raise _refused(host, e) from None
    except ValueError as e:  # RegistryClient's own checks, or an answer that is not NAME/VERSION
        raise BackendApiError(f"publishing to {host}: {one_line(e)}") from None


def _refused(host: str, e: Any) -> BackendApiError:
    response = e.response
    detail = one_line(response.text)[:300] if response is not None else ""
    status = response.status_code if response is not None else "?"
    hint = (
        " -> the credentials need roles/artifactregistry.writer on the repository"
        if status in (401, 403)
        else ""
    )
    return BackendApiError(f"{host} refused the upload ({status}): {detail}{hint}")
