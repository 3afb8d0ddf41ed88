"""Deploy a registered model version to an endpoint, creating the endpoint on first use.

1. ``GET endpoints?filter=display_name="NAME"``: none -> ``POST endpoints`` (an operation) creates it; one ->
   that one; several -> an error (which one was meant is not for this step to guess).
2. ``GET models/ID@VERSION``: the version registration.json names.
3. Already deployed there (a retried step)? Then nothing is sent and the endpoint is reported as it is.
4. ``POST endpoints/E:deployModel`` (an operation) through ``Endpoint.deploy``: dedicated resources (machine
   type, accelerator, min/max replicas) and the traffic split of :mod:`traffic`.

The models that lose traffic stay deployed (at 0 % they still hold their replicas); undeploy them when the
new version has proved itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from model_registry.errors import RegistryError
from model_registry.settings import DeploySettings
from model_registry.traffic import NEW_MODEL, split_traffic
from model_registry.vertex import connect, service_errors


@dataclass(frozen=True)
class Deployment:
    endpoint: str  # projects/P/locations/L/endpoints/E
    endpoint_name: str
    created_endpoint: bool
    deployed_model_id: str
    model_version: str  # projects/P/locations/L/models/ID@VERSION
    traffic_before: dict[str, int]
    traffic_split: dict[str, int]
    requested_split: dict[str, int] = field(default_factory=dict)
    already_deployed: bool = False


def _endpoint(aiplatform: Any, name: str) -> tuple[Any, bool]:
    with service_errors(f"looking up endpoint {name!r}"):
        found = aiplatform.Endpoint.list(filter=f'display_name="{name}"')
    if len(found) > 1:
        names = ", ".join(e.resource_name for e in found)
        raise RegistryError(f"{len(found)} endpoints are named {name!r} ({names}); rename all but one")
    if found:
        return found[0], False
    with service_errors(f"creating endpoint {name!r}"):
        return aiplatform.Endpoint.create(display_name=name, sync=True), True


def _deployed(endpoint: Any, model_id: str, version: str) -> Any:
    """The endpoint's DeployedModel of ``model_id`` version ``version``, or None."""
    for deployed in endpoint.gca_resource.deployed_models:
        name = deployed.model.split("@", 1)[0]
        if name.rsplit("/", 1)[-1] == model_id and str(deployed.model_version_id) == version:
            return deployed
    return None


def deploy(settings: DeploySettings, registration: dict[str, Any]) -> Deployment:
    """Deploy the version ``registration`` names to the endpoint ``settings.endpoint_name``."""
    model_id, version = registration["model_id"], registration["version_id"]
    aiplatform = connect(settings.service)
    endpoint, created = _endpoint(aiplatform, settings.endpoint_name)
    with service_errors(f"reading model version {registration['version_name']}"):
        model = aiplatform.Model(registration["version_name"])
    before = {str(k): int(v) for k, v in dict(endpoint.traffic_split or {}).items()}
    existing = _deployed(endpoint, model_id, version)
    if existing is not None:
        return Deployment(
            endpoint.resource_name, settings.endpoint_name, created, str(existing.id),
            registration["version_name"], before, before, already_deployed=True,
        )  # fmt: skip
    split = split_traffic(before, settings.traffic_percentage)
    with service_errors(f"deploying {registration['version_name']} to {endpoint.resource_name}"):
        endpoint.deploy(
            model=model,
            deployed_model_display_name=f"{model_id}-v{version}",
            traffic_split=split,
            machine_type=settings.machine_type,
            min_replica_count=settings.min_replicas,
            max_replica_count=settings.max_replicas,
            accelerator_type=settings.accelerator_type,
            accelerator_count=settings.accelerator_count or None,
            sync=True,
        )
    deployed = _deployed(endpoint, model_id, version)
    if deployed is None:
        raise RegistryError(
            f"deployed {registration['version_name']}, but {endpoint.resource_name} does not list it afterwards"
        )
    after = {str(k): int(v) for k, v in dict(endpoint.traffic_split or {}).items()}
    return Deployment(
        endpoint.resource_name, settings.endpoint_name, created, str(deployed.id),
        registration["version_name"], before, after, requested_split=split,
    )  # fmt: skip


__all__ = ["NEW_MODEL", "Deployment", "deploy"]
