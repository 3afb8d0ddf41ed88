"""Notifications when a run ends: the ``notify`` config compiled into a ``dsl.ExitHandler`` and its exit task.

With ``notify.emails`` (Vertex AI) or ``notify.webhook.secret`` (the KFP backend) set, every task of the
pipeline, a sweep's loop and the steps after it included, runs inside one ``dsl.ExitHandler``; its exit task
runs once the rest has ended, whatever the outcome, and receives the run's ``dsl.PipelineTaskFinalStatus``.

- Vertex AI: the exit task is google-cloud-pipeline-components' ``VertexNotificationEmailOp``, compiled here
  to the same component spec (GCPC is not a dependency: its pins conflict with kfp's). Vertex AI sends the
  email itself, on every final state; ``notify.on`` cannot filter it (docs/vertex-behaviour.md, N1-N3).
- KFP: the exit task runs :mod:`pipeline_sdk.notify_webhook` on ``notify.image`` and POSTs the final state
  to a URL that a Kubernetes secret puts in its environment (the platform spec kfp-kubernetes'
  ``use_secret_as_env`` writes). The URL is never a parameter: parameters show in the UI and the run record.
"""

# No `from __future__ import annotations`: kfp reads the component functions' annotations as types.
import inspect
import re
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from omegaconf import DictConfig

#: GCPC's image and version whose ``v1/vertex_notification_email/component.py`` the email task reproduces
GCPC_VERSION = "2.22.0"
GCPC_IMAGE = f"gcr.io/ml-pipeline/google-cloud-pipeline-components:{GCPC_VERSION}"
GCPC_EMAIL_MODULE = "google_cloud_pipeline_components.container.v1.vertex_notification_email.executor"
#: the exit tasks' names in the compiled spec (kfp names a task after its component)
EMAIL_TASK = "vertex-pipelines-notification-email"
WEBHOOK_TASK = "notify"
EXIT_HANDLER_NAME = "notified-steps"
ON_VALUES: tuple[str, ...] = ("failure", "always")


def notify_kind(cfg: DictConfig) -> str | None:
    """``"email"``, ``"webhook"`` or None (notifications off)."""
    if cfg.notify.webhook.secret:
        return "webhook"
    return "email" if cfg.notify.emails else None


def exit_task_name(cfg: DictConfig) -> str | None:
    """The compiled exit task's name; None when notifications are off."""
    return {"email": EMAIL_TASK, "webhook": WEBHOOK_TASK}.get(notify_kind(cfg) or "")


def email_component() -> Any:
    """GCPC's ``vertex_pipelines_notification_email`` container component (GCPC 2.22.0, same spec)."""
    from typing import List  # noqa: UP035 - the signature GCPC compiles (a LIST input)

    from kfp import dsl

    def vertex_pipelines_notification_email(
        recipients: List[str],  # noqa: UP006
        pipeline_task_final_status: dsl.PipelineTaskFinalStatus,
    ):
        return dsl.ContainerSpec(
            image=GCPC_IMAGE,
            command=["python3", "-u", "-m", GCPC_EMAIL_MODULE],
            args=["--type", "VertexNotificationEmail", "--payload", ""],
        )

    return dsl.container_component(vertex_pipelines_notification_email)


def webhook_component(cfg: DictConfig) -> Any:
    """The webhook exit task's container component: :mod:`.notify_webhook`'s source run by ``notify.image``."""
    from kfp import dsl

    from pipeline_sdk import notify_webhook

    source = inspect.getsource(notify_webhook)
    settings = cfg.notify

    # no return annotation: kfp would read it as outputs
    def notify(status: dsl.PipelineTaskFinalStatus, run_id: str = ""):
        return dsl.ContainerSpec(
            image=settings.image,
            command=["python3", "-u", "-c", source],
            args=[
                "--status",
                status,
                "--pipeline",
                cfg.pipeline.name,
                "--on",
                settings.on,
                "--env",
                settings.webhook.env,
                "--run-id",
                run_id,
                "--ui",
                cfg.kfp.host or "",
            ],
        )

    return dsl.container_component(notify)


def secret_as_env(cfg: DictConfig) -> dict[str, Any]:
    """The task's Kubernetes platform config, as kfp-kubernetes' ``use_secret_as_env`` writes it."""
    webhook = cfg.notify.webhook
    return {
        "secretAsEnv": [
            {"secretName": webhook.secret, "keyToEnv": [{"secretKey": webhook.key, "envVar": webhook.env}]}
        ]
    }


def exit_task(cfg: DictConfig) -> Any:
    """The exit task for ``cfg``'s notifications (call inside the pipeline function, before the handler)."""
    from kfp import dsl

    if notify_kind(cfg) == "webhook":
        # the run's UUID on the KFP backend (docs/vertex-behaviour.md N6), for the message's link
        task = webhook_component(cfg)(run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER)
        task.platform_config["kubernetes"] = secret_as_env(cfg)
    else:
        task = email_component()(recipients=list(cfg.notify.emails))
    task.set_caching_options(False)  # a cached exit task would send nothing
    return task


def notified(cfg: DictConfig) -> Any:
    """A context manager: the pipeline's tasks built inside it run in the ``dsl.ExitHandler`` whose exit
    task notifies; does nothing when notifications are off."""
    return _exit_handler(cfg) if notify_kind(cfg) else nullcontext()


@contextmanager
def _exit_handler(cfg: DictConfig) -> Iterator[None]:
    from kfp import dsl

    with dsl.ExitHandler(exit_task(cfg), name=EXIT_HANDLER_NAME):
        yield


def is_email_executor(container: dict[str, Any]) -> bool:
    """Whether a compiled executor's container is GCPC's email op (it runs on Vertex AI only)."""
    return GCPC_EMAIL_MODULE in container.get("command", [])


_EMAIL = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\"]+$")
# a Kubernetes secret's name (a DNS subdomain), a key of its data, an environment variable's name
_SECRET_NAME = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def notify_problems(cfg: DictConfig) -> list[tuple[str, str]]:
    """The ``notify`` settings that the config types do not check, as (key, message)."""
    notify, webhook = cfg.notify, cfg.notify.webhook
    problems = [
        (f"notify.emails[{i}]", f"{email!r} is not an email address")
        for i, email in enumerate(notify.emails)
        if not _EMAIL.match(str(email))
    ]
    if notify.on not in ON_VALUES:
        problems.append(("notify.on", f"{notify.on!r} is not one of {', '.join(ON_VALUES)}"))
    if webhook.secret is not None and not _SECRET_NAME.match(webhook.secret):
        problems.append(
            ("notify.webhook.secret", f"{webhook.secret!r} is not a Kubernetes secret name (a-z, 0-9, -, .)")
        )
    if not _SECRET_KEY.match(webhook.key):
        problems.append(("notify.webhook.key", f"{webhook.key!r} is not a secret key (letters, digits, -._)"))
    if not _ENV_NAME.match(webhook.env):
        problems.append(("notify.webhook.env", f"{webhook.env!r} is not an environment variable name"))
    if not notify.image.strip():
        problems.append(("notify.image", "must name the image that runs the webhook step"))
    if notify.emails and cfg.backend == "kfp":
        problems.append(
            (
                "notify.emails",
                "Kubeflow Pipelines sends no email (GCPC's op runs on Vertex AI only); use notify.webhook",
            )
        )
    if webhook.secret and cfg.backend == "vertex":
        problems.append(
            (
                "notify.webhook.secret",
                "Vertex AI has no Kubernetes secrets; use notify.emails there, or backend=kfp",
            )
        )
    task = exit_task_name(cfg)
    for prefix, steps in (("steps", cfg.steps), ("sweep.steps", cfg.sweep.steps)):
        if task in steps:
            problems.append(
                (f"{prefix}.{task}", f"the notification step is named {task!r}; rename this step")
            )
    return problems


__all__ = [
    "EMAIL_TASK",
    "GCPC_IMAGE",
    "GCPC_VERSION",
    "ON_VALUES",
    "WEBHOOK_TASK",
    "email_component",
    "exit_task",
    "exit_task_name",
    "is_email_executor",
    "notified",
    "notify_kind",
    "notify_problems",
    "secret_as_env",
    "webhook_component",
]
