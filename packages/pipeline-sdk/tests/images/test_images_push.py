"""Push to a registry (a real protocol server on 127.0.0.1) with buildah, skopeo and the lock.

A version names one image: pushing other content under an existing tag is refused unless forced, and the
lock pins exactly the digest the registry serves for the tag.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline_sdk.images import load_lock

REPO = Path(__file__).resolve().parents[4]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not shutil.which("skopeo"), reason="needs skopeo (apt-get install skopeo)"),
]


@pytest.fixture
def tiny_repo(tmp_path: Path) -> Path:
    """A monorepo with the real configs and one tiny component whose content a build arg chooses."""
    root = tmp_path / "repo"
    shutil.copytree(REPO / "configs", root / "configs")
    package = root / "packages" / "tiny-comp"
    (package / "src" / "tiny_comp").mkdir(parents=True)
    (package / "src" / "tiny_comp" / "__about__.py").write_text('__version__ = "1.0.0"\n')
    (package / "pyproject.toml").write_text(
        '[project]\nname = "tiny-comp"\n\n[tool.hatch.version]\npath = "src/tiny_comp/__about__.py"\n'
    )
    (package / "Dockerfile").write_text(
        'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nARG CONTENT\nRUN echo "$CONTENT" > /content.txt\nCMD ["python3"]\n'
    )
    return root


def test_push_records_the_registry_digest_and_refuses_to_overwrite_a_version(
    sdk: Callable[..., Any], clean_error: Callable[..., None], buildah_storage: Any, debian_base_image: str,
    fake_registry: Any, tiny_repo: Path,
) -> None:  # fmt: skip
    lock_file = tiny_repo / "images.lock.json"
    tag = f"{fake_registry.host}/team/tiny-comp:1.0.0"

    def push(content: str, *extra: str) -> Any:
        return sdk("build-images", "--push", "--insecure", "--builder", "buildah",
                   "--registry", f"{fake_registry.host}/team", "--build-arg", f"BASE_IMAGE={debian_base_image}",
                   "--build-arg", f"CONTENT={content}", *extra, cwd=tiny_repo, env=buildah_storage.env, timeout=900)  # fmt: skip

    def served() -> tuple[str, str]:
        """The manifest digest and config digest the registry serves for the tag."""
        _, body = fake_registry.state.manifests[("team/tiny-comp", "1.0.0")]
        return "sha256:" + hashlib.sha256(body).hexdigest(), json.loads(body)["config"]["digest"]

    first = push("one")
    assert first.returncode == 0, first.stderr[-4000:]
    entry = load_lock(lock_file).images["tiny-comp"]
    assert (entry.repository, entry.tag, entry.pushed) == (
        f"{fake_registry.host}/team/tiny-comp",
        "1.0.0",
        True,
    )
    assert (entry.digest, entry.image_id) == served()
    assert (
        first.stdout.strip()
        == f"tiny-comp: {fake_registry.host}/team/tiny-comp@{entry.digest} ({entry.image_id})"
    )

    refused = push("two")
    clean_error(refused, f"{tag} already exists in the registry with different content", "--force")
    assert load_lock(lock_file).images["tiny-comp"] == entry  # neither the lock nor the registry changed
    assert served() == (entry.digest, entry.image_id)

    forced = push("two", "--force")
    assert forced.returncode == 0, forced.stderr[-4000:]
    replaced = load_lock(lock_file).images["tiny-comp"]
    assert (replaced.digest, replaced.image_id) == served()
    assert replaced.image_id != entry.image_id
