"""The steps' Markdown reports (the ``report`` output, shown on the Vertex AI run page).

Figures are printed with ``repr``: the shortest text that reads back as the same float, so the report shows
exactly the numbers the promotion compared.
"""

from __future__ import annotations

from typing import Any

from model_registry.endpoints import Deployment
from model_registry.promotion import Rule
from model_registry.registry import Registration
from model_registry.settings import DeploySettings


def _code(text: Any) -> str:
    return "`" + str(text).replace("`", "'") + "`"


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]


def _promotion(registration: Registration, rule: Rule) -> list[str]:
    decision = registration.decision
    if decision is None:
        return ["## Promotion", "", "No guarded alias (`promotion.alias` is empty): nothing was compared."]
    champion = decision.champion
    before = f"version {champion.version}" if champion else "no version"
    if decision.promoted:
        outcome = (
            f"**Promoted**: {_code(rule.alias)} moved from {before} to version {registration.version_id}."
        )
    else:
        outcome = f"**Not promoted**: {_code(rule.alias)} stays on {before}."
    rows = [(registration.version_id, "new", repr(decision.candidate))]
    if champion is not None:
        shown = repr(champion.figure) if champion.figure is not None else "unknown"
        rows.append((champion.version, f"{rule.alias} before", shown))
    return [
        f"## Promotion: {_code(rule.alias)}",
        "",
        outcome,
        "",
        *_table(("version", "role", rule.metric), rows),
        "",
        f"Rule: {rule.describe()}.",
        "",
        f"Decision: {decision.reason}.",
    ]


def registration_markdown(registration: Registration, rule: Rule, serving_image: str) -> str:
    kind = "a new model" if registration.created_model else "a new version"
    aliases = ", ".join(map(_code, registration.aliases)) or "none"
    lines = [
        f"# register-model: {registration.model_id} version {registration.version_id}",
        "",
        f"Registered {_code(registration.artifact_uri)} as {kind}: version **{registration.version_id}** of "
        f"{_code(registration.model)}.",
        "",
        f"- Version name: {_code(registration.version_name)}",
        f"- Aliases of this version: {aliases}",
        f"- Serving image: {_code(serving_image)}",
        "",
        *_promotion(registration, rule),
        "",
        "## Labels",
        "",
        *_table(("key", "value"), sorted(registration.labels.items())),
    ]
    return "\n".join(lines) + "\n"


def skipped_markdown(step: str, reason: str, details: list[str]) -> str:
    lines = [f"# {step}: skipped", "", f"Skipped: {reason}.", ""]
    return "\n".join(lines + [f"- {line}" for line in details]) + "\n"


def deployment_markdown(deployment: Deployment, settings: DeploySettings) -> str:
    created = "created by this step" if deployment.created_endpoint else "existing"
    if deployment.already_deployed:
        what = f"{_code(deployment.model_version)} was already deployed there: nothing was changed."
    else:
        what = f"Deployed {_code(deployment.model_version)} as deployed model {_code(deployment.deployed_model_id)}."
    accelerator = (
        f"{settings.accelerator_count} x {settings.accelerator_type}" if settings.accelerator_type else "none"
    )
    ids = sorted(set(deployment.traffic_before) | set(deployment.traffic_split))
    rows = [
        (
            _code(i)
            + (" (new)" if i == deployment.deployed_model_id and not deployment.already_deployed else ""),
            f"{deployment.traffic_before.get(i, 0)} %",
            f"{deployment.traffic_split.get(i, 0)} %",
        )
        for i in ids
    ]
    lines = [
        f"# deploy-model: {deployment.endpoint_name}",
        "",
        f"Endpoint {_code(deployment.endpoint)} ({created}).",
        "",
        what,
        "",
        f"- Machine: {_code(settings.machine_type)}, accelerator: {accelerator}",
        f"- Replicas: {settings.min_replicas} to {settings.max_replicas}",
        f"- Traffic for the new version: {settings.traffic_percentage} % asked"
        + (
            " (the endpoint had no traffic to share, so it takes all)"
            if not any(deployment.traffic_before.values())
            else ""
        ),
        "",
        "## Traffic split",
        "",
        *_table(("deployed model", "before", "after"), rows),
        "",
        "Models at 0 % stay deployed (and hold their replicas) until they are undeployed.",
    ]
    return "\n".join(lines) + "\n"


__all__ = ["deployment_markdown", "registration_markdown", "skipped_markdown"]
