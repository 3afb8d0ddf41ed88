"""Build (and push) the component images and record them in the image lock."""

from __future__ import annotations

import shlex
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pipeline_sdk.errors import ImageBuildError
from pipeline_sdk.images.builders import Builder, BuildSpec
from pipeline_sdk.images.lock import ImageLock, LockedImage
from pipeline_sdk.images.packages import ComponentPackage
from pipeline_sdk.images.reference import image_tag
from pipeline_sdk.images.registry import remote_config_digest


@dataclass(frozen=True)
class BuildOptions:
    """Everything `build-images` was asked to do, apart from which components."""

    registry: str
    push: bool = False
    force: bool = False
    build_args: Mapping[str, str] = field(default_factory=dict)
    build_contexts: Mapping[str, Path] = field(default_factory=dict)


def build_spec(component: ComponentPackage, options: BuildOptions) -> BuildSpec:
    return BuildSpec(
        context=component.directory,
        dockerfile=component.dockerfile,
        tag=image_tag(options.registry, component.name, component.version),
        build_args=dict(options.build_args),
        build_contexts={**component.workspace, **options.build_contexts},
    )


def dry_run_lines(builder: Builder, components: list[ComponentPackage], options: BuildOptions) -> list[str]:
    """The commands a real run would start, one shell-quoted line each."""
    lines = []
    for component in components:
        spec = build_spec(component, options)
        lines.append(shlex.join(builder.build_command(spec, Path("TMP", f"{component.name}.id"))))
        if options.push:
            if not options.force:
                check = builder.remote_manifest_command(spec.tag)
                lines.append(shlex.join(check) if check else f"# no tool to check {spec.tag} in its registry")
            lines.append(shlex.join(builder.push_command(spec.tag, Path("TMP", f"{component.name}.digest"))))
    return lines


def _run(argv: list[str], what: str, capture: bool = False) -> str:
    """Run ``argv`` with its output on our stderr (captured too when ``capture``)."""
    print(f"+ {shlex.join(argv)}", file=sys.stderr, flush=True)
    try:
        if capture:
            proc = subprocess.run(
                argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False
            )
            sys.stderr.write(proc.stdout)
        else:
            proc = subprocess.run(argv, stdout=sys.stderr, check=False)
    except OSError as e:
        raise ImageBuildError(f"{what}: cannot start {argv[0]}: {e}") from None
    if proc.returncode != 0:
        raise ImageBuildError(f"{what} failed ({argv[0]} exited with {proc.returncode}; its output is above)")
    return proc.stdout if capture else ""


def _build_one(
    builder: Builder, component: ComponentPackage, options: BuildOptions, work: Path
) -> LockedImage:
    spec = build_spec(component, options)
    repository, tag = spec.tag.rsplit(":", 1)
    id_file = work / f"{component.name}.id"
    _run(builder.build_command(spec, id_file), f"building {spec.tag} with {builder.name}")
    try:
        image_id = builder.image_id(id_file)
    except (OSError, ValueError, KeyError) as e:
        raise ImageBuildError(
            f"{builder.name} built {spec.tag} but left no image ID in {id_file.name}: {e}"
        ) from None
    if not options.push:
        return LockedImage(repository, tag, image_id=image_id)
    if not options.force:
        existing = remote_config_digest(builder, spec.tag)
        if existing is not None and existing != image_id:
            raise ImageBuildError(
                f"{spec.tag} already exists in the registry with different content (image {existing}, "
                f"built {image_id}); a version names one image: bump {component.name}'s version "
                "(src/*/__about__.py) or pass --force to overwrite the tag"
            )
    digest_file = work / f"{component.name}.digest"
    output = _run(builder.push_command(spec.tag, digest_file), f"pushing {spec.tag}", capture=True)
    try:
        digest = builder.pushed_digest(digest_file, output)
    except OSError as e:
        raise ImageBuildError(f"{builder.name} pushed {spec.tag} but left no digest: {e}") from None
    return LockedImage(repository, tag, digest=digest, pushed=True, image_id=image_id)


def merged_entry(previous: LockedImage | None, built: LockedImage) -> LockedImage:
    """A local rebuild of an already pushed image with the same content keeps the pushed digest."""
    if (
        previous is not None
        and not built.pushed
        and previous.pushed
        and (previous.repository, previous.tag, previous.image_id)
        == (built.repository, built.tag, built.image_id)
    ):
        return previous
    return built


def build_images(
    builder: Builder,
    components: list[ComponentPackage],
    options: BuildOptions,
    lock: ImageLock,
    lock_path: Path,
) -> ImageLock:
    """Build every component in order, recording each in ``lock`` and saving it to ``lock_path``.

    The lock is rewritten atomically after each image, so images built before a failure stay recorded.
    """
    with tempfile.TemporaryDirectory(prefix="build-images-") as tmp:
        for component in components:
            built = _build_one(builder, component, options, Path(tmp))
            lock.images[component.name] = merged_entry(lock.images.get(component.name), built)
            try:
                lock.save(lock_path)
            except OSError as e:
                raise ImageBuildError(f"cannot write the image lock {lock_path}: {e}") from None
            entry = lock.images[component.name]
            print(f"{component.name}: {entry.pinned if entry.pushed else entry.tagged} ({entry.image_id})")
    return lock
