"""``gcp.experiment``: file the pipeline run under a Vertex AI Experiment, as aiplatform does.

aiplatform's ``PipelineJob.submit(experiment=...)`` gets or creates the experiment (a Vertex ML Metadata
context with schema ``system.Experiment``) before creating the job, then waits, with no time limit, for
the job's ``system.PipelineRun`` context (Vertex creates it once the job starts) and adds it as a child of
the experiment. The same three calls are made here through aiplatform's v1 ``MetadataServiceClient``,
each bounded by ``--timeout``, and the wait for the run context is bounded and announced.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from pipeline_sdk.errors import BackendApiError, DeadlineExceeded, PreflightError
from pipeline_sdk.submit.vertex.client import call_google, run_status

_EXPERIMENT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,127}$")


def check_experiment_name(name: str) -> str:
    """Vertex AI Experiments names are metadata context IDs: lowercase letters, digits and dashes."""
    if not _EXPERIMENT_ID.match(name):
        raise PreflightError(
            f"gcp.experiment={name} is not a Vertex AI experiment name (lowercase letters, digits and dashes, "
            "starting with a letter or digit, at most 128 characters)"
        )
    return name


class ExperimentLinker:
    """Gets or creates one experiment and links pipeline runs to it."""

    def __init__(self, endpoint: str, credentials: Any, project: str, region: str, timeout: float) -> None:
        from google.cloud.aiplatform_v1 import MetadataServiceClient

        self._client = MetadataServiceClient(
            credentials=credentials, transport="rest", client_options={"api_endpoint": endpoint}
        )
        self._where = {"endpoint": endpoint, "project": project, "region": region, "timeout": timeout}
        self.store = f"projects/{project}/locations/{region}/metadataStores/default"

    def ensure(self, name: str) -> str:
        """The experiment's context resource name, creating the experiment if it does not exist yet."""
        from google.cloud.aiplatform.metadata import constants
        from google.cloud.aiplatform_v1.types import Context

        context_name = f"{self.store}/contexts/{name}"
        found = call_google(
            f"reading experiment {name}",
            self._client.get_context,
            name=context_name,
            missing_ok=True,
            **self._where,
        )
        if found is not None:
            return context_name
        experiment = Context(
            display_name=name,
            schema_title=constants.SYSTEM_EXPERIMENT,
            schema_version=constants.SCHEMA_VERSIONS[constants.SYSTEM_EXPERIMENT],
            metadata=constants.EXPERIMENT_METADATA,
        )
        created = call_google(
            f"creating experiment {name}",
            self._client.create_context,
            parent=self.store,
            context=experiment,
            context_id=name,
            **self._where,
        )
        return str(created.name)

    def link(self, experiment_context: str, run_context: str) -> None:
        """Make the pipeline run's context a child of the experiment's."""
        call_google(
            "adding the run to the experiment",
            self._client.add_context_children,
            context=experiment_context,
            child_contexts=[run_context],
            **self._where,
        )


def wait_for_run_context(
    get_job: Callable[[], dict[str, Any]],
    *,
    interval: float,
    max_wait: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """Poll the job until Vertex has created its ``system.PipelineRun`` context; return that context."""
    started = clock()
    while True:
        job = get_job()
        context = (job.get("jobDetail") or {}).get("pipelineRunContext") or {}
        if context.get("name"):
            return str(context["name"])
        status = run_status(job)
        if status.terminal:
            raise BackendApiError(f"the job ended {status.state} before Vertex AI created its run context")
        if clock() - started + interval > max_wait:
            raise DeadlineExceeded(
                f"the job has no run context after {max_wait:g} s ({status.state}); it keeps running, unlinked from "
                "the experiment (raise --wait-timeout to wait longer)"
            )
        sleep(interval)
