"""remote_config_digest against the registry protocol (a fake on 127.0.0.1), queried by real skopeo."""

from __future__ import annotations

import hashlib
import json
import shutil
from typing import Any

import pytest

from pipeline_sdk.errors import ImageBuildError
from pipeline_sdk.images.builders import Buildah
from pipeline_sdk.images.registry import remote_config_digest

pytestmark = pytest.mark.skipif(not shutil.which("skopeo"), reason="needs skopeo (apt-get install skopeo)")

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def _digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _manifest(config: bytes) -> bytes:
    return json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": _digest(config),
                   "size": len(config)},
        "layers": [],
    }).encode()  # fmt: skip


def test_a_tag_resolves_to_its_config_digest(fake_registry: Any) -> None:
    config = b'{"architecture": "amd64", "os": "linux"}'
    fake_registry.state.put_manifest("team/trainer", "0.1.0", OCI_MANIFEST, _manifest(config))
    found = remote_config_digest(Buildah(insecure=True), f"{fake_registry.host}/team/trainer:0.1.0")
    assert found == _digest(config)


def test_an_absent_tag_is_none(fake_registry: Any) -> None:
    fake_registry.state.put_manifest("team/trainer", "0.1.0", OCI_MANIFEST, _manifest(b"{}"))
    assert remote_config_digest(Buildah(insecure=True), f"{fake_registry.host}/team/trainer:0.2.0") is None
    assert remote_config_digest(Buildah(insecure=True), f"{fake_registry.host}/team/other:0.1.0") is None


def test_an_index_resolves_to_the_amd64_image(fake_registry: Any) -> None:
    amd64, arm64 = _manifest(b'{"architecture": "amd64"}'), _manifest(b'{"architecture": "arm64"}')
    state = fake_registry.state
    entries = []
    for body, arch in ((arm64, "arm64"), (amd64, "amd64")):
        entries.append({"mediaType": OCI_MANIFEST, "digest": state.put_manifest("t/x", _digest(body), OCI_MANIFEST,
                        body), "size": len(body), "platform": {"os": "linux", "architecture": arch}})  # fmt: skip
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}).encode()
    state.put_manifest("t/x", "1.0", OCI_INDEX, index)
    found = remote_config_digest(Buildah(insecure=True), f"{fake_registry.host}/t/x:1.0")
    assert found == _digest(b'{"architecture": "amd64"}')
    with pytest.raises(ImageBuildError, match="has no linux/s390x image"):
        remote_config_digest(Buildah(insecure=True), f"{fake_registry.host}/t/x:1.0", platform="linux/s390x")


def test_an_unreachable_registry_is_a_clear_error() -> None:
    # Port 9 (discard) on loopback: nothing listens, so the connection is refused.
    with pytest.raises(ImageBuildError, match=r"cannot inspect 127\.0\.0\.1:9/t/x:1\.0 in its registry: "):
        remote_config_digest(Buildah(insecure=True), "127.0.0.1:9/t/x:1.0")
