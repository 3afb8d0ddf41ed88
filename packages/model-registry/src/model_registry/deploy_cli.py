"""``deploy-model``: the Hydra application behind the pipeline's deploy-model step.

Inside a pipeline configs/components/deploy_model.yaml passes every input as an override; by hand:
``deploy-model registered_model.path=DIR gcp.project=P paths.output_dir=OUT``. It skips with one line
``deploy-model: skipped: ...`` (exit 0, outputs saying so) when ``gcp.project`` is empty, when the
registration was skipped, or when the version lost the guarded promotion (``endpoint.require_promotion``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from model_registry.cli import guarded
from model_registry.cli import main as cli_main

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from model_registry.endpoints import Deployment
    from model_registry.settings import DeploySettings

PROG = "deploy-model"
BY_HAND = {"endpoint": "endpoint", "report": "report.md"}


def skip_reason(settings: DeploySettings, registration: dict[str, Any]) -> str | None:
    """Why nothing is deployed, or None."""
    if registration.get("skipped") is True:
        return f"the registration was skipped ({registration.get('reason', 'no reason given')}), so nothing was deployed"
    if not settings.service.project:
        return "gcp.project is not set, so the model was not deployed"
    alias = registration.get("promote_alias")
    if settings.require_promotion and alias and not registration["promoted"]:
        return (
            f"version {registration['version_id']} was not promoted to {alias} ({registration.get('decision', '')}), "
            "so it was not deployed (endpoint.require_promotion=false deploys it anyway)"
        )
    return None


def _record(settings: DeploySettings, deployment: Deployment) -> dict[str, Any]:
    return {
        "skipped": False,
        "endpoint": deployment.endpoint,
        "endpoint_name": deployment.endpoint_name,
        "created_endpoint": deployment.created_endpoint,
        "deployed_model_id": deployment.deployed_model_id,
        "model_version": deployment.model_version,
        "already_deployed": deployment.already_deployed,
        "traffic_before": deployment.traffic_before,
        "traffic_split": deployment.traffic_split,
        "machine_type": settings.machine_type,
        "accelerator_type": settings.accelerator_type or "",
        "accelerator_count": settings.accelerator_count,
        "min_replicas": settings.min_replicas,
        "max_replicas": settings.max_replicas,
        "traffic_percentage": settings.traffic_percentage,
    }


def _deploy(cfg: DictConfig) -> None:
    from model_registry.endpoints import deploy
    from model_registry.executor_input import output_file
    from model_registry.outputs import Content, check_apart, locations, publish
    from model_registry.records import ENDPOINT_FILE, read_registration
    from model_registry.report import deployment_markdown, skipped_markdown
    from model_registry.settings import deploy_settings

    settings = deploy_settings(cfg)
    where = locations(cfg, BY_HAND)
    check_apart(where, [settings.registered_model_path])
    output_file(cfg.kfp)
    registration = read_registration(settings.registered_model_path)
    reason = skip_reason(settings, registration)
    if reason is not None:
        record: dict[str, Any] = {"skipped": True, "reason": reason, "endpoint_name": settings.endpoint_name}
        details = [f"endpoint: `{settings.endpoint_name}`"]
        if "version_name" in registration:
            details.append(f"registered version: `{registration['version_name']}`")
        markdown = skipped_markdown(PROG, reason, details)
        message = f"{PROG}: skipped: {reason}"
    else:
        deployment = deploy(settings, registration)
        record = _record(settings, deployment)
        markdown = deployment_markdown(deployment, settings)
        done = "already deployed on" if deployment.already_deployed else "deployed to"
        message = (
            f"{PROG}: {deployment.model_version} {done} {deployment.endpoint} as deployed model "
            f"{deployment.deployed_model_id}; traffic {deployment.traffic_split}"
        )
    metadata = {"skipped": record["skipped"]}
    if "endpoint" in record:
        metadata["resourceName"] = record["endpoint"]
    publish(
        cfg.kfp,
        where,
        {"endpoint": Content(record, metadata, ENDPOINT_FILE), "report": Content(markdown, {})},
    )
    print(message, flush=True)


def _app(cfg: DictConfig) -> None:
    guarded(PROG, lambda: _deploy(cfg))


def main() -> None:
    """Console-script entry point."""

    def start() -> None:
        import hydra  # inside the guard, so Ctrl-C during start-up is handled too

        hydra.main(config_path="conf", config_name="deploy", version_base="1.3")(_app)()

    cli_main(PROG, start)


if __name__ == "__main__":
    main()
