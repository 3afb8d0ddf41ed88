"""Start serving: listen at once (Vertex's liveness probe only needs the port), load the model in the
background (health answers 503 until then), and stop on SIGTERM (Vertex's shutdown) or Ctrl-C.

A model that fails to load stops the server and surfaces as a :class:`ServeError` from :func:`run`.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

from serve.errors import ServeError
from serve.model import ServedModel, load_model
from serve.server import PredictionServer
from serve.settings import Settings


class _Terminated(BaseException):
    """SIGTERM arrived: stop serving and exit normally.

    A ``BaseException``, as ``KeyboardInterrupt`` is: the handler raises it wherever the main thread is, and
    socketserver's request loop catches ``Exception`` (it would print it as a failed request and go on serving).
    """


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Terminated


def listen(settings: Settings) -> PredictionServer:
    """Bind and listen on ``settings.host:settings.port`` (port 0: any free port)."""
    try:
        return PredictionServer(
            (settings.host, settings.port), settings.routes, settings.limits, settings.access_log
        )
    except (OSError, OverflowError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ServeError(f"cannot listen on {settings.host}:{settings.port}: {reason}") from None


def _load_in_background(server: PredictionServer, settings: Settings, failure: list[BaseException]) -> None:
    try:
        model: ServedModel = load_model(settings.model_uri, settings.device)
    except BaseException as exc:  # reported by run() in the main thread
        failure.append(exc)
        server.shutdown()
        return
    server.model = model
    print(f"serve: ready: {settings.model_uri} ({model.describe()})", flush=True)


def run(settings: Settings) -> None:
    """Serve until SIGTERM or Ctrl-C (``KeyboardInterrupt`` propagates); raise :class:`ServeError` when
    the port cannot be bound or the model cannot be loaded."""
    # Idle OpenMP workers sleep instead of spinning for their next parallel region: a spinning worker
    # holds a core between requests, and on a small machine that slowed one-image requests ~10x. Read
    # when torch first loads OpenMP (the loader thread below), so an explicit setting wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    server = listen(settings)
    host, port = server.server_address[:2]
    print(f"serve: listening on http://{host}:{port} (health {settings.routes.health}, predict "
          f"{settings.routes.predict}); loading {settings.model_uri}", flush=True)  # fmt: skip
    failure: list[BaseException] = []
    loader = threading.Thread(
        target=_load_in_background, args=(server, settings, failure), name="load-model", daemon=True
    )
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        loader.start()
        server.serve_forever(poll_interval=0.2)
    except _Terminated:
        print("serve: stopped (SIGTERM)", flush=True)
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.server_close()
    if failure:
        error = failure[0]
        if isinstance(error, ServeError):
            raise error
        raise ServeError(f"cannot load the model in {settings.model_uri}: {error}") from None
