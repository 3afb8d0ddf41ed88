"""``pipeline-sdk submit backend=kfp``: the same compiled package through ``kfp.Client``."""

from __future__ import annotations

import datetime
import json

from omegaconf import DictConfig

from pipeline_sdk.submit.errors import PreflightError
from pipeline_sdk.submit.images import check_images, check_in_registries
from pipeline_sdk.submit.kfp_backend import KfpClient
from pipeline_sdk.submit.options import Compiled, SubmitOptions
from pipeline_sdk.submit.polling import wait_if_asked


def submit_to_kfp(cfg: DictConfig, compiled: Compiled, options: SubmitOptions) -> None:
    """Create a run of ``compiled`` on the KFP API at ``cfg.kfp.host``; raises SubmitError."""
    host = cfg.kfp.host
    if not host or not str(host).startswith(("http://", "https://")):
        raise PreflightError(
            f"kfp.host={host} is not a URL; pass kfp.host=http://HOST:PORT (the KFP API, e.g. a "
            "port-forwarded ml-pipeline-ui)"
        )
    if options.check_images:
        check_in_registries(compiled.images, "Kubeflow Pipelines")
    run_name = options.job_id or f"{cfg.pipeline.name}-{datetime.datetime.now():%Y%m%d-%H%M%S}"
    if options.dry_run:
        # The experiment's ID is only known once the server is asked; the rest is what create_run sends.
        plan = {
            "host": str(host),
            "experiment": cfg.kfp.experiment,
            "namespace": cfg.kfp.namespace,
            "run": {
                "display_name": run_name,
                "runtime_config": {"parameters": dict(compiled.parameter_values)},
                "enable_caching": bool(cfg.caching),
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
        enable_caching=bool(cfg.caching),
    )
    options.echo(f"submitted run {run_id} ({run_name})")
    options.echo(f"ui        {client.run_url(run_id)}")
    wait_if_asked(lambda: client.status(run_id), what=f"run {run_name}", options=options)
