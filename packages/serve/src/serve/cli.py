"""``serve``: the Hydra application behind the Vertex AI serving container.

On Vertex AI the image's command is plain ``serve``: the environment (``AIP_STORAGE_URI``, ``AIP_HTTP_PORT``,
``AIP_HEALTH_ROUTE``, ``AIP_PREDICT_ROUTE``) configures it. By hand: ``serve model_uri=DIR port=0``.
Start-up errors (no model, an unreadable model, a bad port) print one line and exit 1; Ctrl-C exits 130,
SIGTERM 0.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from serve.errors import ServeError

if TYPE_CHECKING:
    from omegaconf import DictConfig

PROG = "serve"


def _fail(message: str) -> None:
    print(f"{PROG}: error: {' '.join(message.split())}", file=sys.stderr)
    sys.exit(1)


def _app(cfg: DictConfig) -> None:
    from omegaconf.errors import OmegaConfBaseException

    from serve.app import run
    from serve.settings import settings_from_config

    try:
        run(settings_from_config(cfg))
    except (ServeError, OmegaConfBaseException) as exc:
        _fail(str(exc))


def main() -> None:
    """Console-script entry point."""
    try:
        import hydra  # inside the guard, so Ctrl-C during start-up is handled too

        hydra.main(config_path="conf", config_name="serve", version_base="1.3")(_app)()
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
