import gzip

import numpy as np
import pytest

from data_prepare import PrepareError
from data_prepare.idx import IMAGES_MAGIC, LABELS_MAGIC, check_labels, gunzip, parse_idx


def test_parse_images_round_trip(idx):
    images = np.arange(3 * 28 * 28).reshape(3, 28, 28) % 256
    parsed = parse_idx("x", idx(2051, images), magic=IMAGES_MAGIC, dims=(3, 28, 28))
    assert parsed.shape == (3, 28, 28)
    assert (parsed == images).all()


def test_wrong_magic_names_both(idx):
    with pytest.raises(PrepareError, match=r"magic number 0x00000801, expected 0x00000803"):
        parse_idx("f.gz", idx(2049, np.zeros(3)), magic=IMAGES_MAGIC, dims=(3, 28, 28))


def test_wrong_dimensions(idx):
    with pytest.raises(PrepareError, match=r"dimensions \[3, 27, 28\], expected \[3, 28, 28\]"):
        parse_idx("f.gz", idx(2051, np.zeros((3, 27, 28))), magic=IMAGES_MAGIC, dims=(3, 28, 28))


def test_wrong_count(idx):
    with pytest.raises(PrepareError, match=r"dimensions \[4\], expected \[5\]"):
        parse_idx("f.gz", idx(2049, np.zeros(4)), magic=LABELS_MAGIC, dims=(5,))


def test_body_shorter_than_header_says(idx):
    raw = idx(2049, np.zeros(5))[:-2]
    with pytest.raises(PrepareError, match=r"3 data bytes after the header, expected 5"):
        parse_idx("f.gz", raw, magic=LABELS_MAGIC, dims=(5,))


def test_header_too_short():
    with pytest.raises(PrepareError, match="too short for an IDX header"):
        parse_idx("f.gz", b"\x00\x00", magic=IMAGES_MAGIC, dims=(1, 28, 28))


def test_label_out_of_range():
    with pytest.raises(PrepareError, match=r"label 12 at index 2 is outside 0..9"):
        check_labels("l.gz", np.array([0, 9, 12, 3], dtype=np.uint8), 10)


def test_gunzip_errors():
    with pytest.raises(PrepareError, match="not a gzip file"):
        gunzip("a.gz", b"<html>404</html>")
    with pytest.raises(PrepareError, match="truncated or corrupt"):
        gunzip("a.gz", gzip.compress(b"x" * 1000)[:20])
