"""The steps' settings from their Hydra configs, checked before anything is read from or sent to the service.

Inside a pipeline every setting arrives as a Hydra override built from a component input (the component YAMLs
in configs/components/); ``version_aliases`` and ``labels`` are JSON text there (``'[]'``, ``'{}'``), by hand
they may also be Hydra lists and dicts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from model_registry import naming
from model_registry.errors import RegistryError
from model_registry.labels import check_user_labels, metric_label
from model_registry.promotion import Rule, rule

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_LOCATION = re.compile(r"[a-z][a-z0-9-]*[a-z0-9]")
_ROUTE = re.compile(r"/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*")
_MACHINE_TYPE = re.compile(r"[a-z][a-z0-9-]*")
_ACCELERATOR = re.compile(r"[A-Z][A-Z0-9_]*")
#: a Cloud Storage bucket name: 3-63 characters (up to 222 with dots) of a-z 0-9 - _ . between a letter or digit
_BUCKET = re.compile(r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]")
MAX_JSON_BYTES = 1 << 16


@dataclass(frozen=True)
class Service:
    """Where the Vertex AI API is: ``project`` '' means the step skips; ``api_endpoint`` None is the regional
    default (``LOCATION-aiplatform.googleapis.com``)."""

    project: str
    location: str
    api_endpoint: str | None


@dataclass(frozen=True)
class Serving:
    """The serving container of a model version (Vertex AI's custom container contract)."""

    image: str
    predict_route: str
    health_route: str
    port: int


@dataclass(frozen=True)
class RegisterSettings:
    service: Service
    model_path: Path
    model_uri: str
    model_id: str
    serving: Serving
    version_aliases: tuple[str, ...]
    labels: dict[str, str]
    rule: Rule
    move_default: bool
    #: '' or gs://BUCKET[/PREFIX]: where a model at a local path is staged before it is registered
    staging_uri: str = ""


@dataclass(frozen=True)
class DeploySettings:
    service: Service
    registered_model_path: Path
    endpoint_name: str
    machine_type: str
    accelerator_type: str | None
    accelerator_count: int
    min_replicas: int
    max_replicas: int
    traffic_percentage: int
    require_promotion: bool


def _text(value: Any, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise RegistryError(f"{name} must be a string, got {type(value).__name__}")
    return str(value).strip()


def _integer(value: Any, name: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RegistryError(f"{name} must be a whole number, got {value!r}")
    if value < low or (high is not None and value > high):
        bounds = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise RegistryError(f"{name} is {value}; it must be {bounds}")
    return value


def _api_endpoint(value: str) -> str | None:
    if not value:
        return None
    if "://" not in value:
        return value  # host[:port], reached over HTTPS
    parts = urlsplit(value)
    if parts.scheme == "https" and parts.hostname:
        return value
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return value
    raise RegistryError(
        f"gcp.api_endpoint {value!r}: give a host (europe-west4-aiplatform.googleapis.com) or an https:// URL; "
        "plain http:// is only for a test server on a loopback address (http://127.0.0.1:PORT)"
    )


def service(gcp: Mapping[str, Any]) -> Service:
    project = _text(gcp.get("project"), "gcp.project")
    location = _text(gcp.get("location"), "gcp.location")
    if project and any(ch.isspace() or ch == "/" for ch in project):
        raise RegistryError(f"gcp.project {project!r} is not a project ID")
    if not _LOCATION.fullmatch(location):
        raise RegistryError(f"gcp.location {location!r} is not a region such as us-central1")
    return Service(project, location, _api_endpoint(_text(gcp.get("api_endpoint"), "gcp.api_endpoint")))


def staging_uri(value: str, name: str = "gcp.staging_uri") -> str:
    """'' or ``gs://BUCKET[/PREFIX]`` without a trailing slash."""
    if not value:
        return ""
    bucket, _, prefix = value.removeprefix("gs://").partition("/")
    if (
        not value.startswith("gs://")
        or not _BUCKET.fullmatch(bucket)
        or any(ch in value for ch in "\r\n#?*[")
    ):
        raise RegistryError(
            f"{name} {value!r} is not a Cloud Storage place gs://BUCKET/PREFIX (the pipeline root, where a model "
            "at a local path is staged for registering)"
        )
    prefix = prefix.strip("/")
    return f"gs://{bucket}/{prefix}" if prefix else f"gs://{bucket}"


def json_setting(value: Any, name: str, kind: type) -> Any:
    """A JSON-text (or Hydra container) setting as a ``kind`` (list or dict); '' and null are empty."""
    from omegaconf import DictConfig, ListConfig, OmegaConf

    if isinstance(value, (DictConfig, ListConfig)):
        value = OmegaConf.to_container(value, resolve=True)
    elif value is None or (isinstance(value, str) and not value.strip()):
        value = kind()
    elif isinstance(value, str):
        if len(value.encode()) > MAX_JSON_BYTES:
            raise RegistryError(f"{name} is larger than {MAX_JSON_BYTES} bytes")
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise RegistryError(f"{name} is not valid JSON: {' '.join(str(exc).split())}") from None
    if not isinstance(value, kind):
        shape = (
            "list of strings, e.g. '[\"candidate\"]'" if kind is list else 'object, e.g. \'{"team": "ml"}\''
        )
        raise RegistryError(f"{name} must be a JSON {shape}; got {value!r}")
    return value


def _aliases(value: Any, promote_alias: str) -> tuple[str, ...]:
    name = "registry.version_aliases"
    aliases = json_setting(value, name, list)
    for alias in aliases:
        naming.check_alias(alias, name)
    if len(set(aliases)) != len(aliases):
        raise RegistryError(f"{name} lists an alias twice: {aliases}")
    if promote_alias and promote_alias in aliases:
        raise RegistryError(
            f"{name} holds {promote_alias!r}, the guarded alias: it moves only when the new version is better "
            "(promotion.alias); leave it out of version_aliases"
        )
    return tuple(aliases)


def _serving(registry: Mapping[str, Any]) -> Serving:
    routes = {}
    for key in ("predict_route", "health_route"):
        routes[key] = _text(registry.get(key), f"registry.{key}")
        if not _ROUTE.fullmatch(routes[key]):
            raise RegistryError(f"registry.{key} {routes[key]!r} is not an HTTP path starting with /")
    port = _integer(registry.get("port"), "registry.port", 1, 65535)
    return Serving(_text(registry.get("serving_image"), "registry.serving_image"), **routes, port=port)


def register_settings(cfg: Any) -> RegisterSettings:
    """The register step's settings from its Hydra config (``model``, ``gcp``, ``registry``, ``promotion``)."""
    promotion = cfg.promotion
    alias = _text(promotion.get("alias"), "promotion.alias")
    if alias:
        naming.check_alias(alias, "promotion.alias")
    margin = promotion.get("margin")
    if isinstance(margin, int) and not isinstance(margin, bool):
        margin = float(margin)
    how = rule(
        alias,
        _text(promotion.get("metric"), "promotion.metric"),
        margin,
        _text(promotion.get("goal"), "promotion.goal"),
        _text(promotion.get("unknown_champion"), "promotion.unknown_champion"),
    )
    if alias:
        metric_label(how.metric)
    path = _text(cfg.model.get("path"), "model.path")
    if not path:
        raise RegistryError("model.path is not set: give the trained model directory (the trainer's output)")
    registry = cfg.registry
    model_id = naming.check_model_id(
        _text(registry.get("model_name"), "registry.model_name"), "registry.model_name"
    )
    labels = json_setting(registry.get("labels"), "registry.labels", dict)
    return RegisterSettings(
        service=service(cfg.gcp),
        model_path=Path(path),
        model_uri=_text(cfg.model.get("uri"), "model.uri") or path,
        model_id=model_id,
        serving=_serving(registry),
        version_aliases=_aliases(registry.get("version_aliases"), alias),
        labels=check_user_labels(labels, "registry.labels"),
        rule=how,
        move_default=bool(promotion.get("move_default", True)),
        staging_uri=staging_uri(_text(cfg.gcp.get("staging_uri"), "gcp.staging_uri")),
    )


def _accelerator(endpoint: Mapping[str, Any]) -> tuple[str | None, int]:
    kind = _text(endpoint.get("accelerator_type"), "endpoint.accelerator_type")
    count = _integer(endpoint.get("accelerator_count"), "endpoint.accelerator_count", 0)
    if kind and not _ACCELERATOR.fullmatch(kind):
        raise RegistryError(
            f"endpoint.accelerator_type {kind!r} is not an AcceleratorType name such as NVIDIA_L4"
        )
    if bool(kind) != bool(count):
        raise RegistryError(
            f"endpoint.accelerator_type {kind!r} and endpoint.accelerator_count {count} go together: give both "
            "(NVIDIA_L4 and 1) or neither ('' and 0, CPU serving)"
        )
    return kind or None, count


def deploy_settings(cfg: Any) -> DeploySettings:
    """The deploy step's settings from its Hydra config (``registered_model``, ``gcp``, ``endpoint``)."""
    endpoint = cfg.endpoint
    path = _text(cfg.registered_model.get("path"), "registered_model.path")
    if not path:
        raise RegistryError("registered_model.path is not set: give the directory register-model wrote")
    name = _text(endpoint.get("name"), "endpoint.name")
    if not name or len(name) > naming.MAX_DISPLAY_NAME or any(ch in name for ch in '"\\\n'):
        raise RegistryError(
            f"endpoint.name {name!r}: an endpoint display name has 1 to {naming.MAX_DISPLAY_NAME} characters, "
            'without " or \\'
        )
    machine_type = _text(endpoint.get("machine_type"), "endpoint.machine_type")
    if not _MACHINE_TYPE.fullmatch(machine_type):
        raise RegistryError(
            f"endpoint.machine_type {machine_type!r} is not a machine type such as n1-standard-4"
        )
    accelerator_type, accelerator_count = _accelerator(endpoint)
    low = _integer(endpoint.get("min_replicas"), "endpoint.min_replicas", 1)
    high = _integer(endpoint.get("max_replicas"), "endpoint.max_replicas", 1)
    if high < low:
        raise RegistryError(f"endpoint.max_replicas {high} is below endpoint.min_replicas {low}")
    return DeploySettings(
        service=service(cfg.gcp),
        registered_model_path=Path(path),
        endpoint_name=name,
        machine_type=machine_type,
        accelerator_type=accelerator_type,
        accelerator_count=accelerator_count,
        min_replicas=low,
        max_replicas=high,
        traffic_percentage=_integer(
            endpoint.get("traffic_percentage"), "endpoint.traffic_percentage", 0, 100
        ),
        require_promotion=bool(endpoint.get("require_promotion", True)),
    )


__all__ = [
    "DeploySettings",
    "RegisterSettings",
    "Service",
    "Serving",
    "deploy_settings",
    "json_setting",
    "register_settings",
    "service",
    "staging_uri",
]
