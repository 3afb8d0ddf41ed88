"""``pipeline-sdk submit [--wait] [--dry-run] [OVERRIDES...]``: compile, then submit to Vertex AI
Pipelines (``backend=vertex``, the default) or Kubeflow Pipelines (``backend=kfp kfp.host=URL``)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from pipeline_sdk.commands.common import (
    ArgumentParser,
    add_client_options,
    add_wait_options,
    command_parser,
    quiet_libraries,
    require_positive,
    run_command,
)
from pipeline_sdk.errors import UsageError

DESCRIPTION = """Compile the pipeline as `pipeline-sdk compile` does, then create a run of it.

backend=vertex: a Vertex AI PipelineJob in gcp.project / gcp.region with gcp.pipeline_root (gs://),
gcp.service_account, gcp.network, gcp.labels (+ package versions), gcp.encryption_spec_key_name and
caching, filed under Vertex AI Experiments' gcp.experiment if set. Credentials: Application Default
Credentials. pipeline-sdk checks (read-only) that the pipeline_root bucket exists; it never creates
buckets or edits IAM.
backend=kfp: a run on the Kubeflow Pipelines API at kfp.host, in experiment kfp.experiment."""


def _parser() -> ArgumentParser:
    p = command_parser("submit", DESCRIPTION, argparse.RawDescriptionHelpFormatter)
    add_wait_options(p)
    p.add_argument("--dry-run", action="store_true", help="print the request as JSON and contact nothing")
    p.add_argument(
        "--check-images",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="check that the backend can pull every image: localhost/ images are refused, tags and digests "
        "are looked up in their registries (default: on; --dry-run looks nothing up)",
    )
    p.add_argument(
        "--skip-bucket-check",
        action="store_true",
        help="do not check that the gcp.pipeline_root bucket exists",
    )
    p.add_argument("--job-id", default=None, help="Vertex job ID / KFP run name (default: NAME-TIMESTAMP)")
    add_client_options(p)
    return p


def _options(args: argparse.Namespace, backend: str) -> Any:
    """The flags ``backend`` takes, as its options type."""
    from pipeline_sdk.submit.options import SubmitOptions, VertexOptions

    common = {
        "wait": args.wait,
        "dry_run": args.dry_run,
        "timeout": args.timeout,
        "poll_interval": args.poll_interval,
        "wait_timeout": args.wait_timeout,
        "check_images": args.check_images,
        "job_id": args.job_id,
        "allow_plain_http": args.allow_plain_http,
    }
    if backend == "kfp":
        if args.skip_bucket_check:
            raise UsageError("--skip-bucket-check applies to backend=vertex only")
        return SubmitOptions(**common)
    return VertexOptions(**common, skip_bucket_check=args.skip_bucket_check)


def _submit(argv: list[str]) -> int:
    from pipeline_sdk.compiler import compile_pipeline
    from pipeline_sdk.sweep import load_with_sweep

    args = _parser().parse_intermixed_args(argv)
    require_positive(args, "timeout", "poll_interval", "wait_timeout")
    quiet_libraries(args.verbose)
    cfg, sweep = load_with_sweep(args.overrides, args.config_dir, args.multirun)
    options = _options(args, cfg.backend)
    with tempfile.TemporaryDirectory(prefix="pipeline-sdk-submit-") as tmp:
        compiled = compile_pipeline(cfg, Path(tmp) / f"{cfg.pipeline.name}.yaml", sweep)
        for warning in compiled.warnings:
            options.note(f"warning: {warning}")
        if sweep is not None:
            at_once = cfg.sweep.max_parallel or len(sweep.trials)
            options.note(
                f"sweep: {len(sweep.trials)} trials, at most {min(at_once, len(sweep.trials))} at a time "
                f"(sweep.max_parallel), then {', '.join(str(s) for s in cfg.sweep.steps)}"
            )
            for number in range(1, len(sweep.trials) + 1):
                options.note(f"  trial {number}: {sweep.describe(number)}")
        if cfg.backend == "kfp":
            from pipeline_sdk.submit.kfp import submit_to_kfp

            submit_to_kfp(cfg, compiled, options)
        else:
            from pipeline_sdk.submit.vertex import submit_to_vertex

            submit_to_vertex(cfg, compiled, options)
    return 0


def main(argv: list[str]) -> int:
    """Entry point used by ``pipeline-sdk submit``; returns the exit code."""
    return run_command("submit", lambda: _submit(list(argv)))
