"""``pipeline-sdk submit`` with ``backend=vertex``: preflight, build, send, optionally wait."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, OmegaConf

from pipeline_sdk.cloud.credentials import load_credentials
from pipeline_sdk.cloud.endpoints import check_plain_http
from pipeline_sdk.errors import PreflightError
from pipeline_sdk.submit.options import Compiled, VertexOptions
from pipeline_sdk.submit.polling import wait_if_asked
from pipeline_sdk.submit.preflight import (
    bucket_of,
    build_labels,
    check_accelerators,
    check_bucket,
    check_images,
    check_in_registries,
    check_region,
    package_versions,
)
from pipeline_sdk.submit.vertex.client import VertexClient
from pipeline_sdk.submit.vertex.experiment import (
    ExperimentLinker,
    check_experiment_name,
    wait_for_run_context,
)
from pipeline_sdk.submit.vertex.request import VertexSettings, build_request, console_url

#: How long submit waits, without --wait-timeout, for a new job's run context to link it to gcp.experiment.
RUN_CONTEXT_WAIT_S = 600.0


def experiment_url(project: str, region: str, experiment: str) -> str:
    return (
        f"https://console.cloud.google.com/vertex-ai/experiments/locations/{region}/experiments/"
        f"{experiment}?project={project}"
    )


def submit_to_vertex(cfg: DictConfig, compiled: Compiled, options: VertexOptions) -> None:
    """Submit ``compiled`` as a Vertex AI PipelineJob configured by ``cfg.gcp``; raises SubmitError."""
    gcp = cfg.gcp
    region = check_region(gcp.region)
    bucket = bucket_of(gcp.pipeline_root)
    check_accelerators(compiled.spec)
    experiment = check_experiment_name(gcp.experiment) if gcp.experiment else None
    user_labels = OmegaConf.to_container(gcp.labels) if gcp.labels is not None else {}
    assert isinstance(user_labels, dict)
    labels = build_labels(user_labels, package_versions(compiled.images))
    credentials, project = identity(gcp.project, options)
    settings = job_settings(cfg, compiled, project, region, labels, options.job_id)
    if options.check_images:
        check_in_registries(compiled.images, "Vertex AI")
    request = build_request(compiled.path, settings, credentials)
    check_plain_http(request.endpoint, "gcp.api_endpoint", allowed=options.allow_plain_http)
    custom_job_note = custom_job_identity_note(cfg, compiled.spec)
    if custom_job_note:
        options.note(custom_job_note)
    if options.dry_run:
        options.echo(request.to_json(env=cfg.get("env")))
        if experiment:
            options.note(f"submit would also get or create experiment {experiment} and add the run to it")
        return

    if options.check_images:
        check_images(compiled.images, credentials=credentials, timeout=options.timeout, note=options.note)
    if not options.skip_bucket_check:
        check_bucket(bucket, project=project, region=region, credentials=credentials, timeout=options.timeout)
    linker = (
        ExperimentLinker(request.endpoint, credentials, project, region, options.timeout)
        if experiment
        else None
    )
    experiment_context = linker.ensure(str(experiment)) if linker else None
    client = VertexClient(request.endpoint, credentials, project, region, options.timeout)
    name = client.create(request)["name"]
    options.echo(f"submitted {name}")
    options.echo(f"console   {console_url(name)}")
    if linker and experiment_context:
        _link_to_experiment(client, name, linker, experiment_context, str(experiment), options)
        options.echo(f"experiment {experiment_url(project, region, str(experiment))}")
    wait_if_asked(lambda: client.status(name), what=f"pipeline job {request.job_id}", options=options)


def custom_job_identity_note(cfg: DictConfig, spec: dict[str, Any]) -> str | None:
    """What a CustomJob step needs of the run's service account, or None without one.

    The step's launcher creates the CustomJob with the run's own credentials and names that same account
    as the job's identity (``{{$.pipeline_service_account}}``); Vertex AI checks ``iam.serviceAccounts.actAs``
    on the job's identity for whoever creates it (GCPC custom_job docstring; docs/vertex-behaviour.md, IAM).
    """
    from pipeline_sdk.custom_job import is_launcher

    executors = spec.get("deploymentSpec", {}).get("executors", {})
    steps = [
        label.removeprefix("exec-")
        for label, executor in executors.items()
        if is_launcher(executor.get("container", {}).get("command", []))
    ]
    if not steps:
        return None
    account = cfg.gcp.service_account or "the Compute Engine default service account"
    return (
        f"note: step {', '.join(steps)} runs as a Vertex AI CustomJob that the run's service account "
        f"({account}) creates to run as itself: grant it roles/iam.serviceAccountUser on itself "
        "(docs/vertex.md, IAM)"
    )


def identity(project: str | None, options: VertexOptions) -> tuple[Any, str]:
    """Credentials (none for a dry run) and the project: ``gcp.project``, else the credentials' own."""
    credentials = None
    if not options.dry_run:
        adc = load_credentials(options.timeout)
        credentials, project = adc.credentials, project or adc.project
    if not project:
        raise PreflightError(
            "gcp.project is not set"
            + ("" if options.dry_run else " and the credentials name no project")
            + "; pass gcp.project=PROJECT_ID"
        )
    return credentials, project


def job_settings(
    cfg: DictConfig, compiled: Compiled, project: str, region: str, labels: dict[str, str], job_id: str | None
) -> VertexSettings:
    """The PipelineJob's settings from ``gcp.*`` (shared by submit and the schedules that embed the job)."""
    gcp = cfg.gcp
    return VertexSettings(
        project=project,
        region=region,
        pipeline_root=gcp.pipeline_root,
        display_name=cfg.pipeline.name,
        parameter_values=dict(compiled.parameter_values),
        labels=labels,
        service_account=gcp.service_account,
        network=gcp.network,
        encryption_spec_key_name=gcp.encryption_spec_key_name,
        api_endpoint=gcp.api_endpoint,
        job_id=job_id,
    )


def _link_to_experiment(
    client: VertexClient,
    name: str,
    linker: ExperimentLinker,
    experiment_context: str,
    experiment: str,
    options: VertexOptions,
) -> None:
    options.note(f"waiting for Vertex AI to start the job, to add it to experiment {experiment}")
    run_context = wait_for_run_context(
        lambda: client.get(name),
        interval=options.poll_interval,
        max_wait=options.wait_timeout or RUN_CONTEXT_WAIT_S,
    )
    linker.link(experiment_context, run_context)
