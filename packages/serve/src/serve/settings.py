"""The Hydra configuration checked into :class:`Settings`; a bad value is a :class:`ServeError`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from serve.errors import ServeError
from serve.limits import Limits
from serve.server import Routes


@dataclass(frozen=True)
class Settings:
    """Everything ``serve`` needs to start: the model, where to listen, the routes and the limits."""

    model_uri: str
    host: str = "0.0.0.0"
    port: int = 8080
    routes: Routes = field(default_factory=Routes)
    device: str = "auto"
    limits: Limits = field(default_factory=Limits)
    access_log: bool = False


def _integer(value: Any, name: str, low: int, high: int | None = None) -> int:
    text = str(value).strip()
    if isinstance(value, bool) or not text.lstrip("-").isdigit():
        raise ServeError(f"{name} must be an integer, got {value!r}")
    number = int(text)
    if number < low or (high is not None and number > high):
        bounds = f"{low}-{high}" if high is not None else f"at least {low}"
        raise ServeError(f"{name} must be {bounds}, got {number}")
    return number


def _route(value: Any, name: str) -> str:
    route = str(value or "")
    if not route.startswith("/") or any(c.isspace() for c in route):
        raise ServeError(f"{name} must be a path starting with / (no spaces), got {route!r}")
    return route


def settings_from_config(cfg: Any) -> Settings:
    """Check the composed config (``serve.yaml`` plus overrides) and build :class:`Settings`."""
    if not cfg.model_uri:
        raise ServeError(
            "no model: set model_uri=DIR or model_uri=gs://BUCKET/PATH (on Vertex AI, AIP_STORAGE_URI sets it)"
        )
    routes = Routes(_route(cfg.health_route, "health_route"), _route(cfg.predict_route, "predict_route"))
    if routes.health == routes.predict:
        raise ServeError(f"health_route and predict_route are both {routes.health}")
    limits = Limits(
        _integer(cfg.limits.max_request_bytes, "limits.max_request_bytes", 1),
        _integer(cfg.limits.max_instances, "limits.max_instances", 1),
    )
    return Settings(
        model_uri=str(cfg.model_uri),
        host=str(cfg.host),
        port=_integer(cfg.port, "port", 0, 65535),
        routes=routes,
        device=str(cfg.device),
        limits=limits,
        access_log=bool(cfg.access_log),
    )
