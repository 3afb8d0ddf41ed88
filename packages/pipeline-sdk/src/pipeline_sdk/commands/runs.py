"""``pipeline-sdk runs list|show|cancel``: the pipeline's runs on the backend ``submit`` sends them to
(``backend=vertex``, the default, or ``backend=kfp``), found with the same config (``env=NAME``, overrides)."""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING

from pipeline_sdk.commands.common import (
    ArgumentParser,
    add_client_options,
    add_wait_options,
    command_parser,
    echo,
    note,
    quiet_libraries,
    require_positive,
    run_command,
)
from pipeline_sdk.errors import RunFailed, UsageError

if TYPE_CHECKING:
    from pipeline_sdk.runs.model import RunsBackend

ACTIONS = ("list", "show", "cancel")
_OVERRIDE = re.compile(r"^(?:[+~]{1,2}[A-Za-z_][\w.@/-]*$|[+~]{0,2}[A-Za-z_][\w.@/-]*=)")
USAGE = """usage: pipeline-sdk runs list [--limit N] [--state STATE] [--json] [OPTIONS] [OVERRIDE ...]
       pipeline-sdk runs show RUN [--wait] [--json] [OPTIONS] [OVERRIDE ...]
       pipeline-sdk runs cancel RUN [OPTIONS] [OVERRIDE ...]

List, inspect, follow or cancel the runs of the pipeline (pipeline.name) on the backend `submit` uses:
Vertex AI pipeline jobs in gcp.project / gcp.region (backend=vertex, Application Default Credentials,
needs roles/aiplatform.user), or Kubeflow Pipelines runs in experiment kfp.experiment at kfp.host
(backend=kfp). Overrides and env=NAME select the place as for submit, e.g. `pipeline-sdk runs list
env=prod`. RUN is the ID `runs list` shows, the full resource name
(projects/P/locations/L/pipelineJobs/ID), or the link submit printed.
"""
DESCRIPTIONS = {
    "list": "The pipeline's runs, newest first: ID, state, created/started/ended times (UTC) and the link.",
    "show": "One run: state, times, parameters, each task's state and the link. With --wait, follow it "
    "until it ends, as `submit --wait` does (exit status 0 only if it succeeded).",
    "cancel": "Ask the backend to cancel a pending or running run (Vertex AI: cancel; KFP: terminate). "
    "A run that has already ended is an error.",
}


def _parser(action: str) -> ArgumentParser:
    p = command_parser(f"runs {action}", DESCRIPTIONS[action], sweeps=False)
    if action == "list":
        p.add_argument("--limit", type=int, default=20, metavar="N", help="at most N runs (default: 20)")
        p.add_argument(
            "--state",
            metavar="STATE",
            help="only runs in this state, e.g. RUNNING, FAILED, SUCCEEDED, CANCELLED (the backend's names)",
        )
    else:
        p.usage = f"pipeline-sdk runs {action} [options] RUN [OVERRIDE ...]"
    if action in ("list", "show"):
        p.add_argument("--json", action="store_true", help="print JSON instead of text")
    if action == "show":
        add_wait_options(p)
    add_client_options(p)
    return p


def _help() -> str:
    return USAGE + "".join(f"\n{_parser(action).format_help()}" for action in ACTIONS)


def _split_run(positionals: list[str], action: str) -> tuple[str, list[str]]:
    """RUN and the overrides among the positional arguments: an override is ``KEY=VALUE`` (``+``/``~``
    allowed) with a config key before the ``=``, so a link holding ``?project=P`` is a RUN."""
    overrides = [a for a in positionals if _OVERRIDE.match(a)]
    runs = [a for a in positionals if a not in overrides]
    if len(runs) != 1:
        got = "no RUN" if not runs else f"{len(runs)} runs ({', '.join(runs)})"
        raise UsageError(f"runs {action} takes one RUN, got {got} (see `pipeline-sdk runs {action} --help`)")
    return runs[0], overrides


def _runs(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(_help(), end="")
        return 0 if argv else 2
    action, rest = argv[0], argv[1:]
    if action not in ACTIONS:
        raise UsageError(
            f"unknown action {action!r}; choose from {', '.join(ACTIONS)} (see `pipeline-sdk runs --help`)"
        )
    args = _parser(action).parse_intermixed_args(rest)
    positive = ("timeout", "poll_interval", "wait_timeout") if action == "show" else ("timeout",)
    require_positive(args, *positive)
    if action == "list" and args.limit < 1:
        raise UsageError(f"--limit must be at least 1, got {args.limit}")
    run, overrides = (None, args.overrides) if action == "list" else _split_run(args.overrides, action)
    quiet_libraries(args.verbose)

    from pipeline_sdk.config import load_config
    from pipeline_sdk.runs import backend_states, open_backend
    from pipeline_sdk.runs.model import pick_state

    cfg = load_config(overrides, args.config_dir)
    state = None
    if action == "list" and args.state is not None:
        states = backend_states(cfg.backend)
        state = pick_state(args.state, states)
        if state is None:
            where = "Kubeflow Pipelines runs" if cfg.backend == "kfp" else "Vertex AI pipeline jobs"
            raise UsageError(f"--state {args.state}: not a state of {where}; choose from {', '.join(states)}")
    if run is not None:  # a RUN of the wrong form is a usage error before any credentials are looked for
        from pipeline_sdk.runs.names import kfp_run, vertex_job

        kfp_run(run) if cfg.backend == "kfp" else vertex_job(run)
    backend = open_backend(cfg, timeout=args.timeout, allow_plain_http=args.allow_plain_http)
    if action == "list":
        return _list(backend, cfg.pipeline.name, args, state)
    assert run is not None
    if action == "show":
        return _show(backend, run, args)
    info = backend.cancel(run)
    echo(
        f"cancelling {backend.noun} {info.id} (was {info.state}); "
        f"`pipeline-sdk runs show {info.id} --wait` follows it to the end"
    )
    return 0


def _list(backend: RunsBackend, pipeline: str, args: argparse.Namespace, state: str | None) -> int:
    from pipeline_sdk.runs.model import as_json, table

    runs = backend.list(limit=args.limit, state=state)
    if args.json:
        echo(as_json(runs))
    elif runs:
        echo(table(runs, pipeline=pipeline))
    else:
        note(f"no runs of pipeline {pipeline}" + (f" in state {state}" if state else ""))
    return 0


def _show(backend: RunsBackend, run: str, args: argparse.Namespace) -> int:
    from pipeline_sdk.runs.model import as_json, details
    from pipeline_sdk.submit.polling import wait_for_run

    info = backend.show(run)
    failed: RunFailed | None = None
    if not args.json:
        echo(details(info))
    if args.wait:
        try:
            wait_for_run(
                lambda: backend.status(info.resource),
                what=f"{backend.noun} {info.id}",
                interval=args.poll_interval,
                max_wait=args.wait_timeout,
                echo=note if args.json else echo,  # --json: stdout is the JSON alone
                note=note,
            )
        except RunFailed as e:
            failed = e
        if args.json:
            info = backend.show(info.resource)
    if args.json:
        echo(as_json(info))
    if failed is not None:
        raise failed
    return 0


def main(argv: list[str]) -> int:
    """Entry point used by ``pipeline-sdk runs``; returns the exit code."""
    return run_command("runs", lambda: _runs(list(argv)))
