"""Registry validation and image tags."""

from __future__ import annotations

import pytest

from pipeline_sdk.errors import ImageBuildError
from pipeline_sdk.images.reference import image_tag, normalize_registry


@pytest.mark.parametrize(
    ("registry", "expected"),
    [
        ("us-central1-docker.pkg.dev/my-project/my-repo", "us-central1-docker.pkg.dev/my-project/my-repo"),
        ("europe-west4-docker.pkg.dev/p/r/", "europe-west4-docker.pkg.dev/p/r"),
        ("localhost:5000", "localhost:5000"),
        ("127.0.0.1:5000/team/sub_dir", "127.0.0.1:5000/team/sub_dir"),
        (" ghcr.io/org ", "ghcr.io/org"),
    ],
)
def test_good_registries_are_normalized(registry: str, expected: str) -> None:
    assert normalize_registry(registry) == expected


@pytest.mark.parametrize(
    ("registry", "message"),
    [
        ("https://us-docker.pkg.dev/p/r", "without a scheme, e.g. us-docker.pkg.dev/p/r"),
        ("", "is not HOST[:PORT][/PATH...]"),
        ("gcr.io/My-Project", "with a lowercase path"),
        ("gcr.io//double", "is not HOST"),
        ("gcr.io/p r", "is not HOST"),
    ],
)
def test_bad_registries_are_refused_clearly(registry: str, message: str) -> None:
    with pytest.raises(ImageBuildError, match="registry") as caught:
        normalize_registry(registry)
    assert message in str(caught.value)


def test_a_tag_is_registry_package_and_version() -> None:
    assert (
        image_tag("us-docker.pkg.dev/p/r/", "data-prepare", "0.1.0")
        == "us-docker.pkg.dev/p/r/data-prepare:0.1.0"
    )
    assert image_tag("localhost:5000", "trainer", "1.2.3rc1") == "localhost:5000/trainer:1.2.3rc1"


def test_a_version_that_is_no_tag_is_refused() -> None:
    with pytest.raises(ImageBuildError, match=r"trainer version '1\.0\+local' is not a valid image tag"):
        image_tag("r.example", "trainer", "1.0+local")
