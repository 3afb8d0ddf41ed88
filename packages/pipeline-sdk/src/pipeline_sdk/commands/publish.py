"""``pipeline-sdk publish --host URL [--tag TAG]... [OVERRIDES...]``: compile, then upload the template to
a KFP template registry (Artifact Registry) tagged with the pipeline version, so runs can be created
from the Vertex AI console ("Create run" from a template) or with ``template_path=URL/NAME/TAG``."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from pipeline_sdk.commands.common import (
    ArgumentParser,
    add_client_options,
    command_parser,
    quiet_libraries,
    require_positive,
    run_command,
)

DESCRIPTION = """Compile the pipeline as `pipeline-sdk compile` does, then upload the template to a KFP
template registry (an Artifact Registry repository of format KFP), tagged with the version, so runs can
be created from it in the Vertex AI console or with template_path=HOST/NAME/TAG.
Credentials: Application Default Credentials."""


def _parser() -> ArgumentParser:
    p = command_parser("publish", DESCRIPTION, argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--host",
        required=True,
        help="template registry, e.g. https://us-central1-kfp.pkg.dev/PROJECT/REPOSITORY",
    )
    p.add_argument(
        "--tag",
        action="append",
        default=None,
        help="tag to attach (repeatable; default: v<pipeline-sdk version> and latest)",
    )
    add_client_options(p)
    return p


def _publish(argv: list[str]) -> int:
    from pipeline_sdk.__about__ import __version__
    from pipeline_sdk.cloud.credentials import load_credentials
    from pipeline_sdk.cloud.endpoints import check_plain_http
    from pipeline_sdk.compiler import compile_pipeline
    from pipeline_sdk.sweep import load_with_sweep
    from pipeline_sdk.template_registry import check_host, publish_template, version_tag

    args = _parser().parse_intermixed_args(argv)
    require_positive(args, "timeout")
    quiet_libraries(args.verbose)
    host = check_host(args.host)
    check_plain_http(host, "--host", allowed=args.allow_plain_http)
    tags = args.tag or [version_tag(__version__), "latest"]
    cfg, sweep = load_with_sweep(args.overrides, args.config_dir, args.multirun)
    credentials = load_credentials(args.timeout).credentials
    with tempfile.TemporaryDirectory(prefix="pipeline-sdk-publish-") as tmp:
        compiled = compile_pipeline(cfg, Path(tmp) / f"{cfg.pipeline.name}.yaml", sweep)
        name, version = publish_template(
            compiled.path, host=host, tags=tags, credentials=credentials, timeout=args.timeout
        )
    print(f"published {name} {version} tags {', '.join(tags)}")
    print(f"template  {host}/{name}/{tags[0]}")
    return 0


def main(argv: list[str]) -> int:
    """Entry point used by ``pipeline-sdk publish``; returns the exit code."""
    return run_command("publish", lambda: _publish(list(argv)))
