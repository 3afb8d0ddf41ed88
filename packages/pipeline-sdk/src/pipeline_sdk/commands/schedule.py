"""``pipeline-sdk schedule create|list|pause|resume|delete``: run the pipeline on a cron, on the backend
``submit`` sends runs to (``backend=vertex``, the default: a Vertex AI Schedule; ``backend=kfp``: a Kubeflow
Pipelines recurring run), with the same config, overrides and preflight as ``submit``."""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path
from typing import Any

from pipeline_sdk.commands.common import (
    ArgumentParser,
    add_client_options,
    command_parser,
    echo,
    note,
    quiet_libraries,
    require_positive,
    run_command,
)
from pipeline_sdk.errors import UsageError

ACTIONS = ("create", "list", "pause", "resume", "delete")
_OVERRIDE = re.compile(r"^(?:[+~]{1,2}[A-Za-z_][\w.@/-]*$|[+~]{0,2}[A-Za-z_][\w.@/-]*=)")
_RESOURCE = re.compile(r"^projects/[^/]+/locations/[^/]+/schedules/[^/]+$")
USAGE = """usage: pipeline-sdk schedule create NAME --cron CRON [OPTIONS] [OVERRIDE ...]
       pipeline-sdk schedule list [--json] [OPTIONS] [OVERRIDE ...]
       pipeline-sdk schedule pause NAME [OPTIONS] [OVERRIDE ...]
       pipeline-sdk schedule resume NAME [--catch-up] [OPTIONS] [OVERRIDE ...]
       pipeline-sdk schedule delete NAME [OPTIONS] [OVERRIDE ...]

Run the pipeline on a schedule, e.g. retrain every night:
  pipeline-sdk schedule create nightly --cron '0 3 * * *' --time-zone Europe/Berlin env=prod
backend=vertex (the default): a Vertex AI Schedule in gcp.project / gcp.region whose every run is the
PipelineJob `submit` would create (needs roles/aiplatform.user, and iam.serviceAccountUser on
gcp.service_account: the runs act as it). backend=kfp: a recurring run in kfp.experiment at kfp.host.
NAME is the schedule's display name (letters, digits, '.', '_', '-'); pause, resume and delete also take
its ID or full resource name.
"""
DESCRIPTIONS = {
    "create": "Compile the pipeline as `submit` does and create a schedule that starts a run of it at every "
    "tick of CRON (5 fields: minute hour day-of-month month day-of-week, checked before anything is sent). "
    "An existing NAME is an error unless --replace, which pauses the old schedule, creates the new one, then "
    "deletes the old one (if the create fails, the old one is resumed).",
    "list": "The pipeline's schedules: name, state (ACTIVE, PAUSED, COMPLETED), cron and time zone, next and "
    "last scheduled run, creation time (UTC), ID.",
    "pause": "Pause an ACTIVE schedule: no new runs until it is resumed; runs already started go on.",
    "resume": "Resume a PAUSED schedule from the next tick after now; with --catch-up (Vertex AI only), "
    "first start the runs missed while it was paused.",
    "delete": "Delete the schedule (waiting for Vertex AI's long-running operation); runs already started go "
    "on.",
}


def _parser(action: str) -> ArgumentParser:
    p = command_parser(f"schedule {action}", DESCRIPTIONS[action], sweeps=action == "create")
    if action != "list":
        p.usage = f"pipeline-sdk schedule {action} [options] NAME [OVERRIDE ...]"
    if action == "create":
        _create_options(p)
    if action == "list":
        p.add_argument("--json", action="store_true", help="print JSON instead of text")
    if action == "resume":
        p.add_argument(
            "--catch-up",
            action="store_true",
            help="Vertex AI: first start every run missed while paused (default: skip them)",
        )
    add_client_options(p)
    return p


def _create_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cron", required=True, help="5-field cron, e.g. '0 3 * * *' (03:00 daily)")
    p.add_argument(
        "--time-zone",
        metavar="TZ",
        help="IANA time zone the cron is read in, e.g. Europe/Berlin (default: UTC; Vertex AI only)",
    )
    p.add_argument("--start-time", metavar="ISO", help="first possible run, ISO 8601 (default: now)")
    p.add_argument("--end-time", metavar="ISO", help="no runs after this time, ISO 8601 (default: none)")
    p.add_argument(
        "--max-concurrent-runs", type=int, default=1, metavar="N", help="runs at once at most (default: 1)"
    )
    p.add_argument("--max-runs", type=int, metavar="N", help="complete after N runs (Vertex AI only)")
    p.add_argument(
        "--catch-up",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="KFP: start the ticks missed while disabled once enabled again (default: --no-catch-up); "
        "Vertex AI decides this at `schedule resume`",
    )
    p.add_argument(
        "--allow-queueing",
        action="store_true",
        help="Vertex AI: queue a tick's run while --max-concurrent-runs are running (default: skip it)",
    )
    p.add_argument("--replace", action="store_true", help="swap an existing schedule NAME for this one")
    p.add_argument("--dry-run", action="store_true", help="print the request as JSON and contact nothing")
    p.add_argument(
        "--check-images",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="check that the backend can pull every image, as submit does (default: on)",
    )
    p.add_argument(
        "--skip-bucket-check",
        action="store_true",
        help="do not check that the gcp.pipeline_root bucket exists",
    )


def _help() -> str:
    return USAGE + "".join(f"\n{_parser(action).format_help()}" for action in ACTIONS)


def _split_name(positionals: list[str], action: str) -> tuple[str, list[str]]:
    """NAME and the overrides among the positional arguments (an override has ``=``, a NAME never)."""
    overrides = [a for a in positionals if _OVERRIDE.match(a)]
    names = [a for a in positionals if a not in overrides]
    if len(names) != 1:
        got = "no NAME" if not names else f"{len(names)} names ({', '.join(names)})"
        raise UsageError(f"schedule {action} takes one NAME, got {got}")
    name = names[0]
    if action == "create" or not _RESOURCE.match(name):
        from pipeline_sdk.schedules.model import check_name

        check_name(name)
    return name, overrides


def _schedule(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(_help(), end="")
        return 0 if argv else 2
    action, rest = argv[0], argv[1:]
    if action not in ACTIONS:
        raise UsageError(
            f"unknown action {action!r}; choose from {', '.join(ACTIONS)} (see `pipeline-sdk schedule --help`)"
        )
    args = _parser(action).parse_intermixed_args(rest)
    require_positive(args, "timeout")
    if action == "list":
        name, overrides = None, args.overrides
    else:
        name, overrides = _split_name(args.overrides, action)
    if action == "create":
        assert name is not None
        return _create(name, overrides, args)
    quiet_libraries(args.verbose)

    from pipeline_sdk.config import load_config
    from pipeline_sdk.schedules import open_backend

    cfg = load_config(overrides, args.config_dir)
    backend = open_backend(cfg, timeout=args.timeout, allow_plain_http=args.allow_plain_http)
    if action == "list":
        return _list(backend, str(cfg.pipeline.name), args.json)
    assert name is not None
    return _change(backend, action, name, args)


def _list(backend: Any, pipeline: str, as_json: bool) -> int:
    from pipeline_sdk.schedules.model import as_json as to_json
    from pipeline_sdk.schedules.model import table

    schedules = backend.list()
    if as_json:
        echo(to_json(schedules))
    elif schedules:
        echo(table(schedules))
    else:
        note(f"no schedules of pipeline {pipeline}")
    return 0


def _change(backend: Any, action: str, name: str, args: argparse.Namespace) -> int:
    from pipeline_sdk.schedules.model import ScheduleStateError, one_schedule

    info = one_schedule(backend.find(name), name, backend.where)
    wanted = {"pause": "ACTIVE", "resume": "PAUSED"}.get(action)
    if wanted and info.state != wanted:
        # checked here for both backends: Vertex AI answers FAILED_PRECONDITION, KFP would just do it again
        raise ScheduleStateError(
            f"schedule {info.name} ({info.id}) is {info.state}: only an {wanted} schedule can be {action}d"
        )
    if action == "pause":
        backend.pause(info)
        echo(
            f"paused schedule {info.name} ({info.id}); `pipeline-sdk schedule resume {info.name}` resumes it"
        )
    elif action == "resume":
        backend.resume(info, catch_up=args.catch_up)
        echo(f"resumed schedule {info.name} ({info.id})" + (", catching up" if args.catch_up else ""))
    else:
        backend.delete(info)
        echo(f"deleted schedule {info.name} ({info.id})")
    return 0


def _create(name: str, overrides: list[str], args: argparse.Namespace) -> int:
    from pipeline_sdk.schedules.model import build_spec

    spec = build_spec(
        name,
        args.cron,
        time_zone=args.time_zone,
        start_time=args.start_time,
        end_time=args.end_time,
        max_concurrent_runs=args.max_concurrent_runs,
        max_runs=args.max_runs,
        catch_up=args.catch_up,
        allow_queueing=args.allow_queueing,
    )
    quiet_libraries(args.verbose)

    from pipeline_sdk.compiler import compile_pipeline
    from pipeline_sdk.submit.options import SubmitOptions, VertexOptions
    from pipeline_sdk.sweep import load_with_sweep

    cfg, sweep = load_with_sweep(overrides, args.config_dir, args.multirun)
    common = {
        "dry_run": args.dry_run,
        "timeout": args.timeout,
        "check_images": args.check_images,
        "allow_plain_http": args.allow_plain_http,
    }
    if cfg.backend == "kfp":
        from pipeline_sdk.schedules.kfp import check_spec

        check_spec(spec)
        if args.skip_bucket_check:
            raise UsageError("--skip-bucket-check applies to backend=vertex only")
        options: Any = SubmitOptions(**common)
    else:
        options = VertexOptions(**common, skip_bucket_check=args.skip_bucket_check)
    with tempfile.TemporaryDirectory(prefix="pipeline-sdk-schedule-") as tmp:
        compiled = compile_pipeline(cfg, Path(tmp) / f"{cfg.pipeline.name}.yaml", sweep)
        for warning in compiled.warnings:
            options.note(f"warning: {warning}")
        if sweep is not None:
            options.note(f"sweep: every scheduled run runs {len(sweep.trials)} trials")
        if cfg.backend == "kfp":
            from pipeline_sdk.schedules.kfp import create_on_kfp

            create_on_kfp(cfg, compiled, spec, options, replace=args.replace)
        else:
            from pipeline_sdk.schedules.vertex import create_on_vertex

            create_on_vertex(cfg, compiled, spec, options, replace=args.replace)
    return 0


def main(argv: list[str]) -> int:
    """Entry point used by ``pipeline-sdk schedule``; returns the exit code."""
    return run_command("schedule", lambda: _schedule(list(argv)))
