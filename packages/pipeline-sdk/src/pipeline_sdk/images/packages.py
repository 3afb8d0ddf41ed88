"""Component packages: the packages under ``packages/`` that have a Dockerfile, with their versions."""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from pipeline_sdk.errors import ImageBuildError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


@dataclass(frozen=True)
class ComponentPackage:
    """One component package: its distribution ``name``, source ``directory`` and ``version``, and the
    sibling packages it depends on (``workspace``: folder name → folder), which its image is built from
    source as the build contexts of those names (``serve`` takes the trainer as ``--build-context
    trainer=packages/trainer``), since they are not on a package index."""

    name: str
    directory: Path
    version: str
    workspace: dict[str, Path] = field(default_factory=dict)

    @property
    def dockerfile(self) -> Path:
        return self.directory / "Dockerfile"


def read_project(package_dir: Path) -> tuple[str, Path]:
    """The distribution name and the version file (``[tool.hatch.version] path``) of ``package_dir``."""
    pyproject = package_dir / "pyproject.toml"
    try:
        with pyproject.open("rb") as handle:
            document = tomllib.load(handle)
        name = document["project"]["name"]
        about = package_dir / document["tool"]["hatch"]["version"]["path"]
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ImageBuildError(f"cannot read {pyproject}: {e}") from None
    except (KeyError, TypeError):
        raise ImageBuildError(
            f"{pyproject} needs [project] name and [tool.hatch.version] path (the file with __version__)"
        ) from None
    return str(name), about


def source_version(package_dir: Path) -> str:
    """The literal ``__version__`` in the package's version file (hatchling's dynamic version source)."""
    _, about = read_project(package_dir)
    try:
        tree = ast.parse(about.read_text(), filename=str(about))
    except (OSError, SyntaxError) as e:
        raise ImageBuildError(f"cannot read the version of {package_dir.name} from {about}: {e}") from None
    for node in tree.body:
        if not isinstance(node, ast.Assign):
            continue
        named = any(isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets)
        if named and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return node.value.value
    raise ImageBuildError(f"{about} does not set __version__ to a string literal")


def check_installed_version(name: str, version: str, directory: Path) -> None:
    """Refuse a source tree whose version differs from the installed distribution's.

    ``pipeline-sdk compile`` references the *installed* version, so building another one would leave the
    pipeline pointing at an image that was never built. Not installed is fine (e.g. a CI image build).
    """
    try:
        installed = metadata.version(name)
    except metadata.PackageNotFoundError:
        return
    if installed != version:
        raise ImageBuildError(
            f"{name}: the source tree says version {version} but {installed} is installed; "
            f"reinstall it (pip install --no-deps -e {directory}) so the pipeline and the image agree"
        )


def _workspace_dependencies(package_dir: Path, folders: dict[str, Path]) -> dict[str, Path]:
    """The folders (of ``folders``: distribution name → folder) that ``package_dir`` requires."""
    from packaging.requirements import InvalidRequirement, Requirement

    with (package_dir / "pyproject.toml").open("rb") as handle:
        requirements = tomllib.load(handle).get("project", {}).get("dependencies", [])
    needed = {}
    for text in requirements:
        try:
            name = Requirement(text).name
        except InvalidRequirement as e:
            raise ImageBuildError(f"{package_dir / 'pyproject.toml'}: dependency {text!r}: {e}") from None
        folder = folders.get(name.lower().replace("_", "-"))
        if folder is not None:
            needed[folder.name] = folder
    return needed


def find_components(packages_dir: Path, only: list[str] | None = None) -> list[ComponentPackage]:
    """Every ``packages/*/`` with a Dockerfile (sorted by folder), or just those ``only`` names.

    ``only`` takes folder names (``trainer``) or distribution names (``hydra-vertex-trainer``).
    """
    folders = [d for d in sorted(packages_dir.glob("*/")) if (d / "Dockerfile").is_file()]
    if not folders:
        raise ImageBuildError(f"no component package (a directory with a Dockerfile) under {packages_dir}")
    found: dict[str, tuple[str, Path]] = {}
    for folder in folders:
        name, _ = read_project(folder)
        found[folder.name] = found[name] = (name, folder)
    names = list(dict.fromkeys(only)) if only else [folder.name for folder in folders]
    unknown = [n for n in names if n not in found]
    if unknown:
        choices = ", ".join(folder.name for folder in folders)
        raise ImageBuildError(f"unknown component {', '.join(unknown)}; choose from {choices}")
    siblings = {}
    for folder in sorted(packages_dir.glob("*/")):
        try:
            siblings[read_project(folder)[0].lower()] = folder
        except ImageBuildError:
            continue  # not a package of this workspace
    components: list[ComponentPackage] = []
    for key in dict.fromkeys(found[n] for n in names):
        name, folder = key
        version = source_version(folder)
        check_installed_version(name, version, folder)
        components.append(ComponentPackage(name, folder, version, _workspace_dependencies(folder, siblings)))
    return components
