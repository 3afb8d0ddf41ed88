"""The image lock: round trips, compatibility, atomic writes, and how build results update it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline_sdk.images import ImageLock, LockedImage, image_reference, load_lock
from pipeline_sdk.images.build import merged_entry
from pipeline_sdk.images.lock import LockError

DIGEST = "sha256:" + "d" * 64
IMAGE_ID = "sha256:" + "1" * 64


def test_a_lock_round_trips_and_is_written_atomically(tmp_path: Path) -> None:
    lock = ImageLock({"trainer": LockedImage("r.example/p/trainer", "0.1.0", DIGEST, True, IMAGE_ID)})
    path = tmp_path / "nested" / "images.lock.json"
    lock.save(path)
    assert load_lock(path) == lock
    assert json.loads(path.read_text())["images"]["trainer"]["image_id"] == IMAGE_ID
    assert [p.name for p in path.parent.iterdir()] == ["images.lock.json"]  # no temp file left behind


def test_a_lock_written_before_image_ids_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "images.lock.json"
    entry = {"repository": "r/trainer", "tag": "0.1.0", "digest": DIGEST, "pushed": True}
    path.write_text(json.dumps({"version": 1, "images": {"trainer": entry}}))
    assert load_lock(path).images["trainer"] == LockedImage("r/trainer", "0.1.0", DIGEST, True)


@pytest.mark.parametrize(
    ("text", "message"),
    [("{", "cannot read image lock"), ('{"version": 2, "images": {}}', "is not an image lock"),
     ('{"version": 1, "images": {"t": {"repo": "x"}}}', "bad entry for 't'")],
)  # fmt: skip
def test_a_broken_lock_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "images.lock.json"
    path.write_text(text)
    with pytest.raises(LockError, match=message):
        load_lock(path)


def test_pinning_needs_the_same_repository_tag_and_a_digest() -> None:
    pushed = ImageLock({"trainer": LockedImage("r/p/trainer", "0.1.0", DIGEST, True, IMAGE_ID)})
    assert image_reference(pushed, "r/p", "trainer", "0.1.0") == f"r/p/trainer@{DIGEST}"
    assert image_reference(pushed, "r/p", "trainer", "0.2.0") == "r/p/trainer:0.2.0"
    assert image_reference(pushed, "other/p", "trainer", "0.1.0") == "other/p/trainer:0.1.0"
    local = ImageLock({"trainer": LockedImage("r/p/trainer", "0.1.0", None, False, IMAGE_ID)})
    assert image_reference(local, "r/p", "trainer", "0.1.0") == "r/p/trainer:0.1.0"


def test_a_local_rebuild_keeps_the_pushed_digest_only_for_identical_content() -> None:
    pushed = LockedImage("r/trainer", "0.1.0", DIGEST, True, IMAGE_ID)
    same = LockedImage("r/trainer", "0.1.0", None, False, IMAGE_ID)
    changed = LockedImage("r/trainer", "0.1.0", None, False, "sha256:" + "2" * 64)
    assert merged_entry(pushed, same) == pushed
    assert merged_entry(pushed, changed) == changed
    assert merged_entry(None, same) == same
    newer_push = LockedImage("r/trainer", "0.1.0", "sha256:" + "e" * 64, True, "sha256:" + "2" * 64)
    assert merged_entry(pushed, newer_push) == newer_push
