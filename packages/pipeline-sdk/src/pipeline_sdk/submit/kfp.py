"""The Kubeflow Pipelines backend (``backend=kfp``): ``kfp.Client`` against a KFP API server (v2beta1),
every call bounded; the same compiled package as for Vertex AI."""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from omegaconf import DictConfig

from pipeline_sdk.cloud.failures import (
    TRANSIENT_STATUS,
    ApiFailure,
    call_with_deadline,
    describe,
    reporting,
)
from pipeline_sdk.errors import BackendApiError, PreflightError, SdkError, one_line
from pipeline_sdk.submit.options import Compiled, SubmitOptions
from pipeline_sdk.submit.polling import RunStatus, wait_if_asked
from pipeline_sdk.submit.preflight import check_images, check_in_registries

T = TypeVar("T")
_TERMINAL = {"SUCCEEDED", "FAILED", "CANCELED", "SKIPPED"}


def _failure(error: Any) -> ApiFailure:
    """Read a ``kfp_server_api.ApiException`` (its body is the server's JSON error, when there is one)."""
    message, details = str(getattr(error, "reason", "") or ""), ()
    try:
        body = json.loads(error.body or "")
    except (TypeError, ValueError):
        body = None
    if isinstance(body, dict):
        message = str(body.get("message") or body.get("error") or message)
        details = tuple(d for d in body.get("details") or () if isinstance(d, Mapping))
    return ApiFailure(
        getattr(error, "status", None), str(getattr(error, "reason", "") or ""), message, details
    )


def _plain(model: Any) -> dict[str, Any]:
    """A kfp_server_api model as JSON-ready data: its ``to_dict()``, times as RFC 3339 text."""

    def convert(value: Any) -> Any:
        if isinstance(value, datetime.datetime):
            stamp = value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
            return stamp.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        return value

    return convert(model.to_dict() if hasattr(model, "to_dict") else model)


def run_status(run: Mapping[str, Any]) -> RunStatus:
    """Read a v2beta1 ``Run`` (JSON) as a :class:`RunStatus`."""
    state = str(run.get("state") or "RUNTIME_STATE_UNSPECIFIED")
    error = (run.get("error") or {}).get("message") if isinstance(run.get("error"), Mapping) else None
    return RunStatus(state, state in _TERMINAL, state == "SUCCEEDED", one_line(error) if error else None)


class KfpClient:
    """One KFP API server at ``host``."""

    def __init__(self, host: str, *, namespace: str | None, timeout: float) -> None:
        self.host, self.namespace, self.timeout = host.rstrip("/"), namespace, timeout
        self._probe()
        self._client = self._call("connecting to the KFP API", self._connect)

    def _probe(self) -> None:
        # kfp.Client's own health check retries five times, 5 s apart, logging each traceback.
        import requests

        url = f"{self.host}/apis/v2beta1/healthz"
        with reporting("", f"the KFP API at {self.host}", self.timeout):
            response = requests.get(url, timeout=self.timeout)
        if response.status_code != 200:
            raise BackendApiError(
                f"{url} answered {response.status_code}: is kfp.host the KFP API (e.g. http://HOST:8888 or "
                "the ml-pipeline service), and does it need authentication?"
            )

    def _connect(self) -> Any:
        import kfp

        if self.namespace:
            return kfp.Client(host=self.host, namespace=self.namespace)
        return kfp.Client(host=self.host)

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        from kfp_server_api import ApiException

        try:
            return self._call_raw(what, fn)
        except ApiException as e:
            raise self._api_error(what, e) from None

    def _api_error(self, what: str, error: Any) -> BackendApiError:
        failure = _failure(error)
        return BackendApiError(
            f"{what}: {describe(failure, service='KFP', project=self.host)}",
            transient=failure.code in TRANSIENT_STATUS,
        )

    def _call_raw(self, what: str, fn: Callable[[], T]) -> T:
        """``fn()`` bounded by the timeout; the API's own error answers (``ApiException``) pass through."""
        try:
            # kfp.Client prints "Experiment details: <link>" (submit prints its own lines) and warns that
            # it "only works with KFP v2.0.0-beta.2 and later". Both are global state, so they are set
            # here, in the calling thread, and restored when it stops waiting.
            with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                return call_with_deadline(fn, self.timeout, f"{what} at {self.host}")
        except ValueError as e:  # kfp.Client's own checks (e.g. several experiments with one name)
            raise BackendApiError(f"{what}: {one_line(e)}") from None
        except OSError as e:  # urllib3 connection errors surface as OSError subclasses
            raise BackendApiError(
                f"{what}: cannot reach the KFP API at {self.host}: {one_line(e)}", transient=True
            ) from None

    def create_run(
        self,
        package: Path,
        *,
        run_name: str,
        experiment: str,
        parameters: Mapping[str, Any],
    ) -> str:
        """Create the run (and the experiment if missing); return the run ID."""
        result = self._call(
            "creating the run",
            lambda: self._client.create_run_from_pipeline_package(
                str(package),
                arguments=dict(parameters),
                run_name=run_name,
                experiment_name=experiment,
                namespace=self.namespace,
                # None keeps each task's compiled cachingOptions; a bool would overwrite the root DAG's tasks
                # only, not those inside a sweep's loop (kfp client.py _override_caching_options;
                # docs/vertex-behaviour.md, caching)
                enable_caching=None,
            ),
        )
        return str(result.run_id)

    def run_url(self, run_id: str) -> str:
        return f"{self.host}/#/runs/details/{run_id}"

    def status(self, run_id: str) -> RunStatus:
        return run_status(self.get_run(run_id, what="polling the run"))

    def get_run(self, run_id: str, *, what: str = "reading the run") -> dict[str, Any]:
        """The run (v2beta1 ``Run``, snake_case JSON as the API sends it)."""
        return _plain(self._call(what, lambda: self._client.get_run(run_id)))

    def find_run(self, run_id: str) -> dict[str, Any] | None:
        """The run, or None when the API answers 404 for it."""
        from kfp_server_api import ApiException

        try:
            return _plain(self._call_raw("reading the run", lambda: self._client.get_run(run_id)))
        except ApiException as e:
            if e.status == 404:
                return None
            raise self._api_error("reading the run", e) from None

    def experiment_id(self, name: str) -> str | None:
        """The ID of the experiment named ``name``, or None when there is none."""
        predicate = {"operation": "EQUALS", "key": "display_name", "string_value": name}
        found = self._call(
            f"looking up experiment {name}",
            lambda: self._client.list_experiments(
                filter=json.dumps({"predicates": [predicate]}), namespace=self.namespace, page_size=2
            ),
        )
        experiments = found.experiments or []
        return str(experiments[0].experiment_id) if experiments else None

    def list_runs_page(
        self, *, experiment_id: str, page_size: int, page_token: str = "", filter: str | None = None
    ) -> tuple[list[dict[str, Any]], str]:
        """One page of the experiment's runs, newest first, and the next page's token ('' on the last)."""
        found = self._call(
            "listing runs",
            lambda: self._client.list_runs(
                page_token=page_token,
                page_size=page_size,
                sort_by="created_at desc",
                experiment_id=experiment_id,
                namespace=self.namespace,
                filter=filter,
            ),
        )
        return [_plain(run) for run in found.runs or []], str(found.next_page_token or "")

    def terminate_run(self, run_id: str, ended_error: type[SdkError]) -> None:
        """Ask the KFP API to terminate the run; a run that is no longer pending or running (the API
        answers 400 "Row not found") raises ``ended_error``."""
        from kfp_server_api import ApiException

        try:
            self._call_raw("terminating the run", lambda: self._client.terminate_run(run_id))
        except ApiException as e:
            if e.status == 400:
                raise ended_error(_failure(e).message) from None
            raise self._api_error("terminating the run", e) from None


def check_no_custom_jobs(cfg: DictConfig) -> None:
    """Raise :class:`PreflightError` for a step that only Vertex AI can run: a CustomJob (several replicas,
    a machine type, Spot or other scheduling) is started by GCPC's launcher through the Vertex AI API."""
    from pipeline_sdk.custom_job import custom_job_reasons, wrapped_steps

    for key, step in wrapped_steps(cfg):
        raise PreflightError(
            f"{key} ({', '.join(custom_job_reasons(step))}) runs as a Vertex AI CustomJob, which backend=kfp "
            "cannot start: submit with backend=vertex, run it on this machine with `pipeline-sdk run`, or drop "
            "those settings for KFP"
        )


def check_host(host: str | None) -> str:
    """``kfp.host`` if it is an http(s) URL; raises PreflightError otherwise."""
    if not host or not str(host).startswith(("http://", "https://")):
        raise PreflightError(
            f"kfp.host={host} is not a URL; pass kfp.host=http://HOST:PORT (the KFP API, e.g. a "
            "port-forwarded ml-pipeline-ui)"
        )
    return str(host)


def submit_to_kfp(cfg: DictConfig, compiled: Compiled, options: SubmitOptions) -> None:
    """Create a run of ``compiled`` on the KFP API at ``cfg.kfp.host``; raises SubmitError."""
    check_no_custom_jobs(cfg)
    host = check_host(cfg.kfp.host)
    if options.check_images:
        check_in_registries(compiled.images, "Kubeflow Pipelines")
    run_name = options.job_id or f"{cfg.pipeline.name}-{datetime.datetime.now():%Y%m%d-%H%M%S}"
    if options.dry_run:
        # The experiment's ID is only known once the server is asked; the rest is what create_run sends.
        plan = {
            "env": cfg.get("env"),
            "host": str(host),
            "experiment": cfg.kfp.experiment,
            "namespace": cfg.kfp.namespace,
            "run": {
                "display_name": run_name,
                "runtime_config": {"parameters": dict(compiled.parameter_values)},
                "pipeline_spec": compiled.spec,
            },
        }
        options.echo(json.dumps(plan, indent=2))
        return
    if options.check_images:
        check_images(compiled.images, credentials=None, timeout=options.timeout, note=options.note)
    client = KfpClient(str(host), namespace=cfg.kfp.namespace, timeout=options.timeout)
    run_id = client.create_run(
        compiled.path,
        run_name=run_name,
        experiment=cfg.kfp.experiment,
        parameters=compiled.parameter_values,
    )
    options.echo(f"submitted run {run_id} ({run_name})")
    options.echo(f"ui        {client.run_url(run_id)}")
    wait_if_asked(lambda: client.status(run_id), what=f"run {run_name}", options=options)
