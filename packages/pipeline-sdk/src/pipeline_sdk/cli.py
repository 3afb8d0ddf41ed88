"""`pipeline-sdk` entry point: dispatches to a subcommand module, importing only that module.

Each subcommand module exposes ``main(argv: list[str]) -> int`` and owns its own argument parsing, so
``pipeline-sdk --help`` stays fast (no kfp, aiplatform or torch import).
"""

from __future__ import annotations

import importlib
import sys

from pipeline_sdk.__about__ import __version__

COMMANDS: dict[str, tuple[str, str]] = {
    "compile": ("pipeline_sdk.commands.compile", "compile the pipeline to KFP v2 YAML/JSON"),
    "run": ("pipeline_sdk.commands.run", "run the compiled pipeline locally (no cloud, no Docker)"),
    "submit": ("pipeline_sdk.commands.submit", "submit to Vertex AI Pipelines or Kubeflow Pipelines"),
    "runs": (
        "pipeline_sdk.commands.runs",
        "list, show (--wait) or cancel the pipeline's runs on Vertex AI / KFP",
    ),
    "schedule": (
        "pipeline_sdk.commands.schedule",
        "run the pipeline on a cron: create, list, pause, resume, delete",
    ),
    "publish": ("pipeline_sdk.commands.publish", "upload the compiled template to Artifact Registry"),
    "serve": ("pipeline_sdk.commands.serve", "serve a run's model over HTTP as its Vertex AI endpoint would"),
    "build-images": (
        "pipeline_sdk.commands.build_images",
        "build (and push) the component images, write the image lock",
    ),
}

USAGE = """usage: pipeline-sdk [--version] [--help] COMMAND [ARGS...]

commands:
{commands}

Run `pipeline-sdk COMMAND --help` for a command's options. Arguments that are not options are Hydra
overrides of configs/pipeline.yaml, e.g. `pipeline-sdk run params.epochs=1`.
"""


def _usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"  {name.ljust(width)}  {summary}" for name, (_, summary) in COMMANDS.items()]
    return USAGE.format(commands="\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    """Run ``pipeline-sdk`` with ``argv`` (defaults to ``sys.argv[1:]``) and return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(_usage(), end="")
        return 0 if args else 2
    if args[0] == "--version":
        print(f"pipeline-sdk {__version__}")
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"pipeline-sdk: unknown command {name!r}; choose from {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    try:
        module = importlib.import_module(COMMANDS[name][0])
        return int(module.main(rest) or 0)
    except KeyboardInterrupt:  # Ctrl-C while a command's libraries load: its own boundary is not up yet
        print(f"pipeline-sdk {name}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
