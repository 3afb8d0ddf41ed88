"""``register-model``: the Hydra application behind the pipeline's register-model step.

Inside a pipeline configs/components/register_model.yaml passes every input as an override; by hand:
``register-model model.path=DIR model.uri=gs://B/P gcp.project=P registry.serving_image=IMAGE
paths.output_dir=OUT``. Without ``gcp.project`` it checks its inputs, writes outputs saying so and prints
one line ``register-model: skipped: ...`` (exit 0).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from model_registry.cli import guarded
from model_registry.cli import main as cli_main

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from model_registry.registry import Registration
    from model_registry.settings import RegisterSettings

PROG = "register-model"
#: output name -> its file or directory name under paths.output_dir (by hand)
BY_HAND = {"registered_model": "registered_model", "metrics": "metrics.json", "report": "report.md"}
SKIP_REASON = "gcp.project is not set, so the model was not registered"


def _metrics(
    settings: RegisterSettings, registered: bool, registration: Registration | None, candidate: float | None
) -> dict[str, float]:
    metric = settings.rule.metric
    scalars: dict[str, float] = {"registered": float(registered), "promoted": 0.0}
    if candidate is not None:
        scalars[f"candidate_{metric}"] = candidate
    if registration is not None:
        scalars["promoted"] = float(registration.promoted)
        if registration.version_id.isdigit():
            scalars["version"] = float(registration.version_id)
        champion = registration.decision.champion if registration.decision else None
        if champion is not None and champion.figure is not None:
            scalars[f"champion_{metric}"] = champion.figure
    if settings.rule.alias:
        scalars["promote_margin"] = settings.rule.margin
    return scalars


def _record(settings: RegisterSettings, registration: Registration) -> dict[str, Any]:
    decision, rule = registration.decision, settings.rule
    champion = decision.champion if decision else None
    return {
        "skipped": False,
        "model": registration.model,
        "model_id": registration.model_id,
        "version_id": registration.version_id,
        "version_name": registration.version_name,
        "aliases": list(registration.aliases),
        "created_model": registration.created_model,
        "promoted": registration.promoted,
        "promote_alias": rule.alias,
        "promote_metric": rule.metric,
        "promote_goal": rule.goal,
        "promote_margin": rule.margin,
        "candidate": decision.candidate if decision else None,
        "champion": champion.figure if champion else None,
        "champion_version": champion.version if champion else None,
        "decision": decision.reason if decision else "no guarded alias (promotion.alias is empty)",
        "artifact_uri": registration.artifact_uri,
        "serving_image": settings.serving.image,
        "labels": registration.labels,
    }


def _skipped(settings: RegisterSettings, candidate: float | None) -> tuple[dict[str, Any], str]:
    from model_registry.report import skipped_markdown

    record = {
        "skipped": True,
        "reason": SKIP_REASON,
        "model_id": settings.model_id,
        "promoted": False,
        "promote_alias": settings.rule.alias,
        "promote_metric": settings.rule.metric,
        "candidate": candidate,
        "artifact_uri": settings.model_uri,
    }
    details = [f"model: `{settings.model_id}`", f"trained model: `{settings.model_uri}`"]
    if candidate is not None:
        details.append(f"{settings.rule.metric}: {candidate!r} (not compared: nothing was registered)")
    return record, skipped_markdown(PROG, SKIP_REASON, details)


def _register(cfg: DictConfig) -> None:
    from model_registry.executor_input import output_file
    from model_registry.outputs import Content, check_apart, locations, publish
    from model_registry.records import REGISTRATION_FILE
    from model_registry.registry import register
    from model_registry.report import registration_markdown
    from model_registry.settings import register_settings
    from model_registry.trained_model import load_trained_model

    settings = register_settings(cfg)
    where = locations(cfg, BY_HAND)
    check_apart(where, [settings.model_path])
    output_file(cfg.kfp)  # a broken executor input fails now, before anything is registered
    trained = load_trained_model(settings.model_path)
    candidate = trained.figure(settings.rule.metric) if settings.rule.alias else None
    if not settings.service.project:
        record, markdown = _skipped(settings, candidate)
        metrics = _metrics(settings, False, None, candidate)
        message = f"{PROG}: skipped: {SKIP_REASON}"
    else:
        registration = register(settings, trained, lambda text: print(f"{PROG}: note: {text}", flush=True))
        record = _record(settings, registration)
        markdown = registration_markdown(registration, settings.rule, settings.serving.image)
        metrics = _metrics(settings, True, registration, candidate)
        message = f"{PROG}: registered {registration.version_name}"
        if registration.decision is not None:
            verdict = "promoted" if registration.promoted else "not promoted"
            message += f"; {verdict} to {settings.rule.alias}: {registration.decision.reason}"
    metadata = {k: v for k, v in record.items() if k in ("skipped", "model", "version_name", "promoted")}
    if "version_name" in record:
        metadata["resourceName"] = record["version_name"]
    publish(
        cfg.kfp,
        where,
        {
            "registered_model": Content(record, metadata, REGISTRATION_FILE),
            "metrics": Content(metrics, metrics),
            "report": Content(markdown, {}),
        },
    )
    print(message, flush=True)


def _app(cfg: DictConfig) -> None:
    guarded(PROG, lambda: _register(cfg))


def main() -> None:
    """Console-script entry point."""

    def start() -> None:
        import hydra  # inside the guard, so Ctrl-C during start-up is handled too

        hydra.main(config_path="conf", config_name="register", version_base="1.3")(_app)()

    cli_main(PROG, start)


if __name__ == "__main__":
    main()
