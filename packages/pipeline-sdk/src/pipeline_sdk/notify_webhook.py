"""The webhook exit step's program: POST a run's final state as JSON to a URL read from the environment.

Design: this module is the whole program and imports the standard library only, so the exit step runs on a
stock ``python:3.x-slim`` image (``notify.image``) with the module's source passed as ``python3 -c``: no
image to build, no package to install, the same text in the compiled spec and in ``pipeline-sdk run``. The
URL comes from an environment variable that a Kubernetes secret fills (:mod:`pipeline_sdk.notifications`),
never from an argument: arguments are in the compiled spec, the run's record and the UI. The URL is never
printed. A 5xx or a connection error is retried (4 tries, 1-2-4 s apart); any failure is one line on stderr
and exit status 1. The message has a Slack / Google Chat style ``text`` line plus the fields a program reads.

Usage: ``python3 -c SOURCE --status JSON --pipeline NAME --on failure|always --env VARIABLE [--run-id ID
--ui URL]``, where JSON is a ``dsl.PipelineTaskFinalStatus`` as the backend passes it (``state``,
``pipelineJobResourceName``, ``pipelineTaskName``, ``error.code``, ``error.message``). On the KFP backend the
resource name is the workflow's, not the run's: ``--run-id`` (the run's UUID, ``{{$.pipeline_job_uuid}}``)
and ``--ui`` (``kfp.host``) make the run's page, ``<ui>/#/runs/details/<run id>``, as kfp's client links it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request
from typing import Any

TRIES = 4
TIMEOUT_S = 10.0
_VERTEX_JOB = re.compile(
    r"^projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/pipelineJobs/(?P<id>[^/]+)$"
)


def console_link(resource_name: str) -> str | None:
    """The Google Cloud console page of a Vertex AI pipeline job's resource name; None for other names."""
    found = _VERTEX_JOB.match(resource_name)
    if not found:
        return None
    return (
        f"https://console.cloud.google.com/vertex-ai/locations/{found['location']}/pipelines/runs/"
        f"{found['id']}?project={found['project']}"
    )


def kfp_link(ui: str, run_id: str) -> str | None:
    """The KFP UI's page of run ``run_id``; None without a UI address or a run ID."""
    if not ui or not run_id or run_id.startswith("{{"):
        return None
    return f"{ui.rstrip('/')}/#/runs/details/{run_id}"


def message(status: dict[str, Any], pipeline: str, run_id: str = "", ui: str = "") -> dict[str, Any]:
    """The JSON body for a final ``status`` of a run of ``pipeline`` (``run_id`` and ``ui``: a KFP run's)."""
    resource = str(status.get("pipelineJobResourceName") or "")
    state = str(status.get("state") or "UNKNOWN")
    error = (status.get("error") or {}).get("message") or None
    vertex = console_link(resource)
    kfp = None if vertex else kfp_link(ui, run_id)
    run = (run_id if kfp else resource.rsplit("/", 1)[-1]) or None
    link = vertex or kfp
    text = f"Pipeline {pipeline} run {run or '?'}: {state}" + (f": {error}" if error else "")
    return {
        "text": text + (f" ({link})" if link else ""),
        "pipeline": pipeline,
        "run": run,
        "pipeline_job": resource or None,
        "state": state,
        "error": error,
        "console": link,
    }


def post(url: str, body: dict[str, Any], tries: int = TRIES, delay_s: float = 1.0) -> None:
    """POST ``body`` as JSON; retries a 5xx or a connection error. Raises RuntimeError with one line."""
    data = json.dumps(body).encode()
    for attempt in range(1, tries + 1):
        request = urllib.request.Request(url, data, {"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S):
                return
        except urllib.error.HTTPError as e:
            problem = f"HTTP {e.code} {e.reason}"
            if e.code < 500:
                raise RuntimeError(problem) from None
        except (urllib.error.URLError, OSError) as e:
            problem = str(getattr(e, "reason", e))
        if attempt < tries:
            time.sleep(delay_s * 2 ** (attempt - 1))
    raise RuntimeError(f"{problem} after {tries} tries")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="notify")
    parser.add_argument("--status", required=True)
    parser.add_argument("--pipeline", required=True)
    parser.add_argument("--on", choices=("failure", "always"), default="failure")
    parser.add_argument("--env", required=True)
    parser.add_argument("--run-id", default="")
    parser.add_argument("--ui", default="")
    args = parser.parse_args(argv)
    try:
        status = json.loads(args.status)
    except ValueError:
        print("notify: error: --status is not JSON", file=sys.stderr)
        return 1
    body = message(status if isinstance(status, dict) else {}, args.pipeline, args.run_id, args.ui)
    if args.on == "failure" and body["state"] == "SUCCEEDED":
        print(f"notify: skipped: the run {body['state']} (notify.on=failure)")
        return 0
    url = os.environ.get(args.env, "").strip()
    if not url:
        print(f"notify: error: ${args.env} is not set: no webhook URL", file=sys.stderr)
        return 1
    try:
        post(url, body)
    except (RuntimeError, ValueError) as e:  # ValueError: not a URL urllib can open
        print(f"notify: error: webhook POST failed: {e}", file=sys.stderr)
        return 1
    print(f"notify: note: sent {body['state']} to the webhook in ${args.env}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
