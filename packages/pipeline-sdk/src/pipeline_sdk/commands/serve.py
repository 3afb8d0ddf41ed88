"""``pipeline-sdk serve RUN_DIR|MODEL_DIR [--port N] [SERVE_OVERRIDES...]``: a run's model behind the serving
container's own server.

It starts the ``serve`` program of the ``hydra-vertex-serve`` package (the program in the serving image
that ``register`` puts in the Model Registry) the way Vertex AI starts it: the model directory in
``AIP_STORAGE_URI`` and the port in ``AIP_HTTP_PORT``. So a prediction from ``curl`` here is the one the
endpoint will give.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from pipeline_sdk.commands.common import ArgumentParser, run_command
from pipeline_sdk.errors import UsageError

DESCRIPTION = (
    "Serve a model over HTTP as its Vertex AI endpoint would (POST /predict, GET /health): MODEL_DIR "
    "is a trainer output (model.pt, config.yaml, metrics.json); RUN_DIR is a `pipeline-sdk run` "
    "directory, whose model is its last step's (a sweep's: the selected trial's). Stop it with Ctrl-C."
)
MODEL_FILES = ("model.pt", "config.yaml", "metrics.json")
_TRIAL_TASK = re.compile(r"-trial-\d+$")


def _is_model_dir(path: Path) -> bool:
    return all((path / name).is_file() for name in MODEL_FILES)


def model_dir_of(path: Path) -> Path:
    """The model directory that ``path`` (a model directory or a local run directory) names."""
    if _is_model_dir(path):
        return path
    run_json = path / "run.json"
    if not path.exists():
        raise UsageError(f"{path} does not exist")
    if not run_json.is_file():
        raise UsageError(
            f"{path} is neither a model directory ({', '.join(MODEL_FILES)}) nor a run directory (run.json)"
        )
    try:
        tasks = json.loads(run_json.read_text())["tasks"]
        models = [
            (name, Path(output["uri"]))
            for name, task in tasks.items()
            if task.get("state") == "SUCCEEDED"
            for output in task.get("outputs", {}).values()
            if output.get("type") == "system.Model"
        ]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise UsageError(f"{run_json}: not a run record of `pipeline-sdk run` ({e})") from None
    served = [(name, uri) for name, uri in models if _is_model_dir(uri)]
    chosen = [uri for name, uri in served if not _TRIAL_TASK.search(name)]
    if chosen:
        return chosen[-1]
    if served:
        listing = ", ".join(str(uri) for _, uri in served)
        raise UsageError(f"{path}: the run has no selected model; serve one trial's: {listing}")
    raise UsageError(f"{path}: no step of the run produced a model ({', '.join(MODEL_FILES)})")


def main(argv: list[str]) -> int:
    parser = ArgumentParser(prog="pipeline-sdk serve", description=DESCRIPTION)
    parser.add_argument("path", metavar="RUN_DIR|MODEL_DIR", type=Path)
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (default: 8080; 0: any)")
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this machine only; 0.0.0.0: every interface, as "
        "in the serving container)",
    )
    parser.add_argument(
        "overrides",
        nargs="*",
        metavar="SERVE_OVERRIDE",
        help="Hydra overrides of the serve program's config, e.g. device=cpu",
    )

    def body() -> int:
        args = parser.parse_intermixed_args(argv)
        if not 0 <= args.port <= 65535:
            raise UsageError(f"--port must be 0 to 65535, got {args.port}")
        model_dir = model_dir_of(args.path.expanduser().resolve())
        program = shutil.which("serve")
        if program is None:
            raise UsageError(
                "the `serve` program is not installed (pip install hydra-vertex-serve, or "
                "pip install -e packages/serve in this repository)"
            )
        env = {**os.environ, "AIP_STORAGE_URI": str(model_dir), "AIP_HTTP_PORT": str(args.port)}
        os.execve(
            program, [program, f"host={args.host}", *args.overrides], env
        )  # the server owns the terminal and Ctrl-C now
        return 0  # pragma: no cover - execve does not return

    return run_command("serve", body)
