"""Finding the component packages and their versions (source tree vs installed distribution)."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

from pipeline_sdk.errors import ImageBuildError
from pipeline_sdk.images.packages import find_components, source_version

REPO = Path(__file__).resolve().parents[4]


def _package(
    root: Path,
    folder: str,
    about: str = '__version__ = "1.2.3"\n',
    dockerfile: bool = True,
    distribution: str | None = None,
) -> Path:
    directory = root / folder
    module = directory / "src" / folder.replace("-", "_")
    module.mkdir(parents=True)
    (module / "__about__.py").write_text(about)
    (directory / "pyproject.toml").write_text(
        f'[project]\nname = "{distribution or folder}"\n\n'
        f'[tool.hatch.version]\npath = "src/{folder.replace("-", "_")}/__about__.py"\n'
    )
    if dockerfile:
        (directory / "Dockerfile").write_text("FROM scratch\n")
    return directory


def test_the_repo_components_are_the_packages_with_a_dockerfile() -> None:
    components = find_components(REPO / "packages")
    names = [c.directory.name for c in components]
    assert names == ["data-prepare", "model-registry", "select-best", "serve", "trainer"]
    # the sibling packages an image is built with, by folder name
    assert {c.directory.name: c.workspace for c in components}["serve"] == {
        "trainer": REPO / "packages" / "trainer"
    }
    assert all(not c.workspace for c in components if c.directory.name != "serve")
    for component in components:
        assert component.name == metadata.metadata(component.name)["Name"]  # the installed distribution
        assert component.dockerfile == component.directory / "Dockerfile"
        assert component.version == source_version(component.directory)


def test_only_takes_the_folder_or_the_distribution_name(tmp_path: Path) -> None:
    _package(tmp_path, "comp-a", distribution="acme-comp-a")
    by_folder = find_components(tmp_path, ["comp-a"])
    assert [c.name for c in by_folder] == ["acme-comp-a"]
    assert find_components(tmp_path, ["acme-comp-a", "comp-a"]) == by_folder


def test_a_pyproject_without_name_or_version_path_is_a_clear_error(tmp_path: Path) -> None:
    package = _package(tmp_path, "comp-a")
    (package / "pyproject.toml").write_text('[project]\nname = "comp-a"\n')
    with pytest.raises(ImageBuildError, match=r"needs \[project\] name and \[tool.hatch.version\] path"):
        find_components(tmp_path)


def test_the_version_is_the_literal_in_about(tmp_path: Path) -> None:
    package = _package(tmp_path, "my-comp", '"""About."""\n\n__version__ = "2.0.1"\n__author__ = "x"\n')
    assert source_version(package) == "2.0.1"


@pytest.mark.parametrize(
    ("about", "message"),
    [
        ("VERSION = '1'\n", "does not set __version__ to a string literal"),
        ("__version__ = compute()\n", "does not set __version__ to a string literal"),
        ("__version__ = '1\n", "cannot read the version of my-comp"),
    ],
)
def test_an_unreadable_version_is_a_clear_error(tmp_path: Path, about: str, message: str) -> None:
    package = _package(tmp_path, "my-comp", about)
    with pytest.raises(ImageBuildError, match=message):
        source_version(package)


def test_only_selects_and_unknown_names_are_refused(tmp_path: Path) -> None:
    for name in ("comp-a", "comp-b"):
        _package(tmp_path, name)
    _package(tmp_path, "library", dockerfile=False)
    assert [c.name for c in find_components(tmp_path)] == ["comp-a", "comp-b"]
    assert [c.name for c in find_components(tmp_path, ["comp-b", "comp-b"])] == ["comp-b"]
    with pytest.raises(ImageBuildError, match="unknown component library, x; choose from comp-a, comp-b"):
        find_components(tmp_path, ["library", "x"])


def test_no_component_at_all_is_an_error(tmp_path: Path) -> None:
    _package(tmp_path, "library", dockerfile=False)
    with pytest.raises(ImageBuildError, match="no component package"):
        find_components(tmp_path)


def test_a_source_version_that_differs_from_the_installed_one_is_refused(tmp_path: Path) -> None:
    # pipeline-sdk is installed in this environment; a source tree claiming another version must not build.
    installed = metadata.version("hydra-vertex-pipeline-sdk")
    _package(
        tmp_path, "sdk", f'__version__ = "{installed}.post9"\n', distribution="hydra-vertex-pipeline-sdk"
    )
    with pytest.raises(ImageBuildError, match=f"says version {installed}.post9 but {installed} is installed"):
        find_components(tmp_path)
    (tmp_path / "sdk" / "src" / "sdk" / "__about__.py").write_text(f'__version__ = "{installed}"\n')
    assert find_components(tmp_path)[0].version == installed
