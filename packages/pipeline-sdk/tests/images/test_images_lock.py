"""The image lock: round trips, compatibility, atomic writes, and how build results update it."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from pipeline_sdk.errors import LockError
from pipeline_sdk.images import ImageLock, LockedImage, image_reference, load_lock
from pipeline_sdk.images.build import merged_entry

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


def lock_with(**entry: object) -> str:
    fields = {"repository": "r/trainer", "tag": "0.1.0", "digest": DIGEST, "pushed": True, **entry}
    return json.dumps({"version": 1, "images": {"t": fields}})


@pytest.mark.parametrize(
    ("text", "message"),
    [("{", "cannot read image lock"), ('{"version": 2, "images": {}}', "is not an image lock"),
     ('{"version": 1, "images": {"t": {"repo": "x"}}}', "the entry for 't': unknown keys"),
     (lock_with(digest="sha256:abc; rm -rf / #"), "digest 'sha256:abc; rm -rf / #' is not sha256: and 64 hex"),
     (lock_with(digest=12345), "digest 12345 is not sha256:"),
     (lock_with(digest=["a"]), r"digest \['a'\] is not sha256:"),
     (lock_with(image_id="sha256:" + "0" * 63 + "\n"), "image_id"),
     (lock_with(tag="0.1.0\nx"), r"tag '0.1.0\\nx' is not an image tag"),
     (lock_with(repository="Upper/Case"), "repository 'Upper/Case' is not HOST/PATH"),
     (lock_with(pushed="yes"), "pushed 'yes' is not true or false"),
     ('{"version": 1, "images": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply|is not an image lock"),
     (" " * (2 << 20), "larger than"),
     (b"\xff\xfe".decode("latin-1"), "cannot read image lock")],
)  # fmt: skip
def test_a_broken_lock_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "images.lock.json"
    path.write_text(text, encoding="latin-1" if text.startswith("\xff") else "utf-8")
    with pytest.raises(LockError, match=message):
        load_lock(path)


def test_a_lock_that_is_a_fifo_or_a_device_is_refused_without_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    with pytest.raises(LockError, match="is not a regular file"):
        load_lock(fifo)  # opening a FIFO to read would wait for a writer
    zero = tmp_path / "zero.json"
    try:
        os.mknod(zero, stat.S_IFCHR | 0o666, os.makedev(1, 5))  # /dev/zero's numbers
    except PermissionError:
        pytest.skip("creating a device node needs root")
    with pytest.raises(LockError, match="is not a regular file"):
        load_lock(zero)


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
