"""Component packages: the packages under ``packages/`` that have a Dockerfile, with their versions."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from pipeline_sdk.errors import ImageBuildError


@dataclass(frozen=True)
class ComponentPackage:
    """One component package: its distribution ``name``, source ``directory`` and ``version``."""

    name: str
    directory: Path
    version: str

    @property
    def dockerfile(self) -> Path:
        return self.directory / "Dockerfile"


def module_name(distribution: str) -> str:
    """``data-prepare`` → ``data_prepare`` (the monorepo's naming rule, see docs/contracts.md)."""
    return distribution.replace("-", "_")


def source_version(package_dir: Path) -> str:
    """The literal ``__version__`` in ``src/<module>/__about__.py`` (hatchling's dynamic version source)."""
    about = package_dir / "src" / module_name(package_dir.name) / "__about__.py"
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


def check_installed_version(name: str, version: str) -> None:
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
            f"reinstall it (pip install -e packages/{name}) so the pipeline and the image agree"
        )


def find_components(packages_dir: Path, only: list[str] | None = None) -> list[ComponentPackage]:
    """Every ``packages/*/`` with a Dockerfile (sorted by name), or just those named in ``only``."""
    found = {d.name: d for d in sorted(packages_dir.glob("*/")) if (d / "Dockerfile").is_file()}
    if not found:
        raise ImageBuildError(f"no component package (a directory with a Dockerfile) under {packages_dir}")
    names = list(dict.fromkeys(only)) if only else list(found)
    unknown = [n for n in names if n not in found]
    if unknown:
        raise ImageBuildError(f"unknown component {', '.join(unknown)}; choose from {', '.join(found)}")
    components = []
    for name in names:
        version = source_version(found[name])
        check_installed_version(name, version)
        components.append(ComponentPackage(name, found[name], version))
    return components
