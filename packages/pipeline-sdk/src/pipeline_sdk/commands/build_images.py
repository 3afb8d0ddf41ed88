"""`pipeline-sdk build-images`: build every component image, optionally push it, write the image lock."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline_sdk.commands.common import command_parser, run_command
from pipeline_sdk.errors import ImageBuildError, LockError, UsageError
from pipeline_sdk.images.builders import BUILDER_NAMES, DockerBuildx, detect_builder, make_builder

DESCRIPTION = """Build each component package's image (packages/*/Dockerfile, context: the package directory),
tagged <registry>/<package>:<package version>, and record it in the image lock (images.lock_file).
Uses docker buildx when a Docker daemon answers, else buildah or podman. With --push, a tag that already
exists in the registry with different content is refused unless --force."""


def _parser() -> argparse.ArgumentParser:
    parser = command_parser("build-images", DESCRIPTION, sweeps=False)
    parser.add_argument("--push", action="store_true", help="push each image and record its registry digest")
    parser.add_argument(
        "--force", action="store_true", help="with --push: overwrite a tag that holds other content"
    )
    parser.add_argument(
        "--registry", metavar="R", help="image registry (default: images.registry of the config)"
    )
    parser.add_argument(
        "--only", metavar="NAME", action="append", help="build only this package (repeatable)"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the build and push commands, run nothing"
    )
    parser.add_argument(
        "--builder", choices=BUILDER_NAMES, help="use this builder (default: the first available)"
    )
    parser.add_argument(
        "--build-arg", metavar="KEY=VALUE", action="append", default=[],
        help="pass a build argument to every Dockerfile, e.g. BASE_IMAGE=... (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--wheelhouse", metavar="DIR",
        help="a directory of wheels the builds may install from (the Dockerfiles' `wheelhouse` build context)",
    )  # fmt: skip
    parser.add_argument(
        "--insecure",
        action="store_true",
        help="reach the registry over plain HTTP / without TLS verification",
    )
    return parser


def _build_args(values: list[str]) -> dict[str, str]:
    args = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--build-arg {value!r}: write it as KEY=VALUE")
        args[key.strip()] = val
    return args


def _build_contexts(wheelhouse: str | None) -> dict[str, Path]:
    if wheelhouse is None:
        return {}
    path = Path(wheelhouse).expanduser().resolve()
    if not path.is_dir():
        raise ImageBuildError(f"--wheelhouse {wheelhouse}: not a directory")
    return {"wheelhouse": path}


def _run(argv: list[str]) -> int:
    from pipeline_sdk.config import find_config_dir, load_config, resolve_path
    from pipeline_sdk.images.build import BuildOptions, build_images, dry_run_lines
    from pipeline_sdk.images.lock import load_lock
    from pipeline_sdk.images.packages import find_components
    from pipeline_sdk.images.reference import normalize_registry

    args = _parser().parse_args(argv)
    if args.force and not args.push:
        raise UsageError("--force only applies with --push")
    overrides = list(args.overrides)
    if args.registry is not None:
        overrides.append(f"images.registry={normalize_registry(args.registry)}")
    cfg = load_config(overrides, args.config_dir)
    repo_root = find_config_dir(args.config_dir).parent
    options = BuildOptions(
        registry=normalize_registry(cfg.images.registry),
        push=args.push,
        force=args.force,
        build_args=_build_args(args.build_arg),
        build_contexts=_build_contexts(args.wheelhouse),
    )
    components = find_components(repo_root / "packages", args.only)
    lock_path = resolve_path(cfg, cfg.images.lock_file)
    try:
        lock = load_lock(lock_path)
    except LockError as e:
        raise ImageBuildError(str(e)) from None

    if args.dry_run:
        if args.builder:
            builder = make_builder(args.builder, args.insecure)
        else:
            try:
                builder = detect_builder(None, args.insecure)
            except ImageBuildError as e:
                print(f"pipeline-sdk build-images: {e}; showing docker buildx commands", file=sys.stderr)
                builder = DockerBuildx(insecure=args.insecure)
        for line in dry_run_lines(builder, components, options):
            print(line)
        print(f"# then record {', '.join(c.name for c in components)} in {lock_path}")
        return 0

    builder = detect_builder(args.builder, args.insecure)
    build_images(builder, components, options, lock, lock_path)
    return 0


def main(argv: list[str]) -> int:
    """Entry point of ``pipeline-sdk build-images``."""
    return run_command("build-images", lambda: _run(argv))
