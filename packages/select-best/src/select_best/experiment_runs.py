"""Record every trial as a Vertex AI Experiment run, as aiplatform's ``ExperimentRun`` would leave it.

``ExperimentRun.create`` + ``log_params`` + ``log_metrics`` + ``end_run`` amount to one Vertex ML Metadata
context per run (schema ``system.ExperimentRun``, metadata ``_params``, ``_metrics`` and ``_state``) that is
a child of the experiment's context (``system.Experiment``). The same calls are made here with aiplatform's
v1 ``MetadataServiceClient`` over REST (which also reaches a loopback test server over plain HTTP), with
Application Default Credentials (on Vertex AI Pipelines: the run's service account). A run that exists
already (a retried step) is updated, so recording twice leaves the same runs. aiplatform is imported here
only, lazily: it takes seconds. Every failure is one :class:`SelectError` line.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import re
import warnings
from collections.abc import Iterator
from typing import Any

from select_best.errors import SelectError
from select_best.experiment import ExperimentSettings, run_names
from select_best.selection import Selection
from select_best.trials import Trial

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
#: seconds each metadata call may take
TIMEOUT_S = 60.0
#: the most child contexts one AddContextChildren call is given
CHILDREN_PER_CALL = 100
_REQUEST_PREFIX = re.compile(r"^(?:GET|POST|PUT|PATCH|DELETE) \S+: ")
#: a larger integer parameter is kept as text: the metadata holds numbers as doubles
_EXACT_INT = 2**53


def _describe(exc: BaseException, settings: ExperimentSettings) -> str:
    """What google-api-core, google-auth or requests raised, as one short phrase."""
    import requests
    from google.api_core import exceptions as api
    from google.auth import exceptions as auth

    if isinstance(exc, api.GoogleAPICallError):
        # the REST transport puts "METHOD URL: " before the service's message
        text = f"{exc.code} {type(exc).__name__}: {_REQUEST_PREFIX.sub('', str(exc.message))}"
        if exc.code == 403:
            text += (
                f" (the pipeline's service account needs roles/aiplatform.user on project {settings.project})"
            )
        return text
    if isinstance(exc, api.RetryError):
        cause = f" (last: {_describe(exc.cause, settings)})" if exc.cause is not None else ""
        return f"gave up retrying: {exc.message}{cause}"
    if isinstance(exc, auth.DefaultCredentialsError):
        return (
            "no Google credentials found (Application Default Credentials): set GOOGLE_APPLICATION_CREDENTIALS "
            "to a key file or run `gcloud auth application-default login`; on Vertex AI the pipeline's service "
            f"account is used ({exc})"
        )
    if isinstance(exc, auth.GoogleAuthError):
        return f"cannot get an access token: {exc}"
    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return f"cannot reach {settings.endpoint}: {type(exc).__name__}: {exc}"
    return f"{type(exc).__name__}: {exc}"


@contextlib.contextmanager
def _service_errors(settings: ExperimentSettings) -> Iterator[None]:
    """Turn what the client, the transport and the credentials raise into one :class:`SelectError` line."""
    import requests
    from google.api_core import exceptions as api
    from google.auth import exceptions as auth

    try:
        yield
    except (api.GoogleAPIError, auth.GoogleAuthError, requests.RequestException, ValueError) as exc:
        message = f"recording trials in experiment {settings.name}: {_describe(exc, settings)}"
        raise SelectError(" ".join(message.split())) from None


def _client(settings: ExperimentSettings) -> Any:
    """A v1 ``MetadataServiceClient`` over REST with Application Default Credentials."""
    # aiplatform may warn (versions, quota project) and log at INFO on stderr: an error stays one line
    logging.disable(logging.INFO)
    warnings.filterwarnings("ignore", module=r"(google|vertexai|proto)(\.|$)")
    import google.auth
    from google.cloud.aiplatform_v1 import MetadataServiceClient

    credentials, _ = google.auth.default(scopes=list(SCOPES))
    return MetadataServiceClient(
        credentials=credentials, transport="rest", client_options={"api_endpoint": settings.endpoint}
    )


def _param(value: Any) -> Any:
    """A parameter as ``log_params`` takes it: an int, a float or a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and abs(value) <= _EXACT_INT:
        return value
    if (isinstance(value, float) and math.isfinite(value)) or isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def run_metadata(selection: Selection, trial: Trial) -> dict[str, Any]:
    """The run context's metadata for ``trial``: ``_params``, ``_metrics`` and ``_state``."""
    from google.cloud.aiplatform.metadata import constants

    params = {name: _param(value) for name, value in selection.parameter_values(trial).items()}
    metrics = {
        name: value
        for name, value in trial.metrics.items()
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    }
    return {
        constants._PARAM_KEY: {**params, "trial": trial.number},
        constants._METRIC_KEY: {**metrics, "selected": int(trial is selection.best)},
        constants._STATE_KEY: "COMPLETE" if trial.succeeded else "FAILED",
    }


def _experiment_context(client: Any, settings: ExperimentSettings) -> str:
    """The experiment's context, created as ``aiplatform.Experiment.create`` would when it is missing."""
    from google.api_core import exceptions as api
    from google.cloud.aiplatform.metadata import constants
    from google.cloud.aiplatform_v1.types import Context

    name = f"{settings.store}/contexts/{settings.name}"
    try:
        client.get_context(name=name, timeout=TIMEOUT_S)
    except api.NotFound:
        experiment = Context(
            display_name=settings.name,
            schema_title=constants.SYSTEM_EXPERIMENT,
            schema_version=constants.SCHEMA_VERSIONS[constants.SYSTEM_EXPERIMENT],
            metadata=constants.EXPERIMENT_METADATA,
        )
        try:
            client.create_context(
                parent=settings.store, context=experiment, context_id=settings.name, timeout=TIMEOUT_S
            )
        except api.Conflict as exc:  # another step created it meanwhile
            if not _already_exists(exc):
                raise
    return name


def _already_exists(exc: Exception) -> bool:
    """A 409 that says ALREADY_EXISTS (over REST a Conflict whose body holds that status)."""
    from google.api_core import exceptions as api

    if isinstance(exc, api.AlreadyExists):
        return True
    with contextlib.suppress(Exception):
        return exc.response.json()["error"]["status"] == "ALREADY_EXISTS"  # type: ignore[attr-defined]
    return False


def _put_run(client: Any, settings: ExperimentSettings, run: Any, context_id: str) -> str:
    """Create the run's context; one that exists (a retried step) gets this metadata instead."""
    from google.api_core import exceptions as api

    try:
        client.create_context(parent=settings.store, context=run, context_id=context_id, timeout=TIMEOUT_S)
    except api.Conflict as exc:
        if not _already_exists(exc):
            raise
        run.name = f"{settings.store}/contexts/{context_id}"
        client.update_context(context=run, timeout=TIMEOUT_S)
    return f"{settings.store}/contexts/{context_id}"


def record_trials(settings: ExperimentSettings, selection: Selection) -> str:
    """Record each trial of ``selection`` as a run of the experiment; return the line to print."""
    with _service_errors(settings):
        client = _client(settings)
        from google.cloud.aiplatform.metadata import constants
        from google.cloud.aiplatform_v1.types import Context

        limit = constants._EXPERIMENT_RUN_MAX_LENGTH
        names = run_names(settings.name, settings.run, len(selection.trials), limit)
        experiment = _experiment_context(client, settings)
        runs = []
        for trial, (run_name, context_id) in zip(selection.trials, names, strict=True):
            run = Context(
                display_name=run_name,
                schema_title=constants.SYSTEM_EXPERIMENT_RUN,
                schema_version=constants.SCHEMA_VERSIONS[constants.SYSTEM_EXPERIMENT_RUN],
                metadata=run_metadata(selection, trial),
            )
            runs.append(_put_run(client, settings, run, context_id))
        for start in range(0, len(runs), CHILDREN_PER_CALL):
            batch = runs[start : start + CHILDREN_PER_CALL]
            client.add_context_children(context=experiment, child_contexts=batch, timeout=TIMEOUT_S)
    return (
        f"recorded {len(runs)} trials as runs of Vertex AI experiment {settings.name}: {settings.console_url}"
    )
