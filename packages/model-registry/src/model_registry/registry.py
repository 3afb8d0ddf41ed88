"""Register a trained model as a new version in the Vertex AI Model Registry, with guarded promotion.

1. ``GET models/ID``: does the model exist? The first registration creates it (``model_id``), later ones add
   a version to it (``parent_model``).
2. ``GET models/ID@ALIAS``: the version holding the guarded alias, and its figure of the promotion metric,
   read from the labels register-model wrote on it (:func:`labels.recorded_figure`).
3. The decision (:mod:`promotion`), made before the upload.
4. ``aiplatform.Model.upload`` (``POST models:upload``, an operation): the artifact URI, the serving container,
   the labels, the configured version aliases. With a guarded alias the new version is not made the default
   here (``is_default_version=False``); without one it is, as aiplatform does by default.
5. When promoted: ``POST models/ID@VERSION:mergeVersionAliases`` with the alias (and ``default``): the
   service moves an alias to the version it is merged into, so the old holder loses it in the same call.

Two registrations of one model at the same moment can both decide against the same champion; the later merge
wins. Run one pipeline per model at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from model_registry.errors import RegistryError, one_line
from model_registry.labels import recorded_figure, version_labels
from model_registry.naming import DEFAULT_ALIAS
from model_registry.promotion import Champion, Decision, decide
from model_registry.settings import RegisterSettings
from model_registry.trained_model import TrainedModel
from model_registry.vertex import connect, not_found, service_errors


@dataclass(frozen=True)
class Registration:
    """A registered version, as the service names it."""

    model: str  # projects/P/locations/L/models/ID
    model_id: str
    version_id: str
    aliases: tuple[str, ...]
    created_model: bool
    decision: Decision | None  # None: no guarded alias
    artifact_uri: str
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def version_name(self) -> str:
        return f"{self.model}@{self.version_id}"

    @property
    def promoted(self) -> bool:
        return self.decision is not None and self.decision.promoted


def check_artifact_uri(uri: str) -> str:
    if not uri.startswith("gs://") or len(uri) <= len("gs://"):
        raise RegistryError(
            f"model.uri {uri!r} is not a gs:// URI: the Model Registry serves model files from Cloud Storage "
            "(inside a Vertex AI pipeline the model artifact's URI is one)"
        )
    return uri.rstrip("/")


def _champion(aiplatform: Any, settings: RegisterSettings) -> Champion | None:
    alias = settings.rule.alias
    with service_errors(f"reading version `{alias}` of model {settings.model_id}"):
        holder = not_found(aiplatform.Model, f"{settings.model_id}@{alias}")
    if holder is None:
        return None
    labels = dict(holder.labels or {})
    figure, why = recorded_figure(labels, holder.uri or "", settings.rule.metric)
    return Champion(str(holder.version_id), figure, why)


def _description(trained: TrainedModel, settings: RegisterSettings, uri: str) -> str:
    figures = [
        f"{key} {trained.metrics[key]!r}"
        for key in dict.fromkeys([settings.rule.metric, "val_accuracy", "test_accuracy"])
        if isinstance(trained.metrics.get(key), (int, float))
    ]
    return one_line(f"{', '.join(figures)}; from {uri}; registered by register-model", 1000)


def _upload(
    aiplatform: Any,
    settings: RegisterSettings,
    parent: Any,
    uri: str,
    labels: dict[str, str],
    trained: TrainedModel,
) -> Any:
    serving = settings.serving
    with service_errors(f"uploading {uri} as a version of model {settings.model_id}"):
        return aiplatform.Model.upload(
            serving_container_image_uri=serving.image,
            artifact_uri=uri,
            model_id=None if parent is not None else settings.model_id,
            parent_model=parent.resource_name if parent is not None else None,
            is_default_version=not settings.rule.alias,
            version_aliases=list(settings.version_aliases) or None,
            version_description=_description(trained, settings, uri),
            display_name=settings.model_id,
            serving_container_predict_route=serving.predict_route,
            serving_container_health_route=serving.health_route,
            serving_container_ports=[serving.port],
            labels=labels,
            sync=True,
        )


def _move_alias(model: Any, settings: RegisterSettings) -> tuple[str, ...]:
    """Merge the guarded alias (and ``default``) into the new version; its aliases afterwards."""
    aliases = [settings.rule.alias, *([DEFAULT_ALIAS] if settings.move_default else [])]
    with service_errors(
        f"registered version {model.version_id} of {model.resource_name}, but moving `{settings.rule.alias}` to it"
    ):
        merged = model.api_client.merge_version_aliases(
            name=model.versioned_resource_name, version_aliases=aliases
        )
    return tuple(merged.version_aliases)


def _artifact_uri(settings: RegisterSettings, note: Callable[[str], None]) -> str:
    """``model.uri`` when it is in Cloud Storage; a model at a local path is staged there first."""
    if settings.model_uri.startswith("gs://"):
        return check_artifact_uri(settings.model_uri)
    if not settings.staging_uri:
        raise RegistryError(
            f"the model is at a local path ({settings.model_uri}) and Vertex AI reads model files from Cloud "
            "Storage only: set gcp.pipeline_root (gcp.staging_uri, where the model is staged) or register from "
            "a pipeline on Vertex AI (pipeline-sdk submit)"
        )
    from model_registry.staging import stage

    staged = stage(settings.model_path, settings.staging_uri, settings.model_id, settings.service.project)
    note(
        f"staged the local model at {staged.uri} ({staged.uploaded} files uploaded, "
        f"{staged.reused} already there)"
    )
    return staged.uri


def register(
    settings: RegisterSettings, trained: TrainedModel, note: Callable[[str], None] = lambda _: None
) -> Registration:
    """Register ``trained`` (at ``settings.model_uri``) as a new version of ``settings.model_id``; a model at a
    local path is staged under ``settings.staging_uri`` first (``note`` hears where)."""
    if not settings.serving.image:
        raise RegistryError(
            "registry.serving_image is empty: a model version needs a serving container image"
        )
    uri = _artifact_uri(settings, note)
    rule = settings.rule
    candidate = trained.figure(rule.metric) if rule.alias else None
    labels = version_labels(trained.metrics, rule.metric if rule.alias else "", uri, settings.labels)
    aiplatform = connect(settings.service)
    with service_errors(f"reading model {settings.model_id}"):
        parent = not_found(aiplatform.Model, settings.model_id)
    decision = None
    if rule.alias and candidate is not None:
        decision = decide(candidate, _champion(aiplatform, settings) if parent is not None else None, rule)
    model = _upload(aiplatform, settings, parent, uri, labels, trained)
    aliases = tuple(model.version_aliases or ())
    if decision is not None and decision.promoted:
        aliases = _move_alias(model, settings)
    return Registration(
        model=model.resource_name,
        model_id=settings.model_id,
        version_id=str(model.version_id),
        aliases=tuple(sorted(aliases)),
        created_model=parent is None,
        decision=decision,
        artifact_uri=uri,
        labels=labels,
    )


__all__ = ["Registration", "check_artifact_uri", "register"]
