"""The HTTP side of Vertex AI's custom container contract: a health route, a predict route, JSON errors.

Every response is JSON with a ``Content-Length`` (HTTP/1.1 keep-alive); every error body is one line,
``{"error": "..."}``. A bad request is a 400 and the server keeps serving; a request that fails inside the
server is a 500 with a one-line message (its traceback goes to stderr only).
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from serve.__about__ import __version__
from serve.errors import RequestError
from serve.instances import decode_batch
from serve.limits import DRAIN_BYTES, Limits
from serve.model import ServedModel

#: seconds a connection may stay silent (mid-request or between keep-alive requests) before it is closed
IDLE_TIMEOUT_S = 75
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Routes:
    """Paths of the health and predict routes (Vertex sets them as ``AIP_HEALTH_ROUTE``/``AIP_PREDICT_ROUTE``)."""

    health: str = "/health"
    predict: str = "/predict"


class PredictionServer(ThreadingHTTPServer):
    """A thread per connection; :attr:`model` is ``None`` until the model has loaded (health says 503)."""

    daemon_threads = True
    request_queue_size = 128  # many clients connecting at once are queued, not refused

    def __init__(self, address: tuple[str, int], routes: Routes, limits: Limits, access_log: bool = False):
        super().__init__(address, PredictionHandler)
        self.routes = routes
        self.limits = limits
        self.access_log = access_log
        self.model: ServedModel | None = None

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet for clients that hung up; anything else keeps socketserver's report on stderr."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def _one_line(message: str) -> str:
    return " ".join(str(message).split())


class PredictionHandler(BaseHTTPRequestHandler):
    """Routes GET health and POST predict; everything else is a JSON 404, 405 or 501."""

    server: PredictionServer
    protocol_version = "HTTP/1.1"
    server_version = f"hydra-vertex-serve/{__version__}"
    timeout = IDLE_TIMEOUT_S
    # headers and body go out as two writes: without TCP_NODELAY, Nagle's algorithm holds the body back
    # until the client's delayed ACK (tens of milliseconds per response)
    disable_nagle_algorithm = True

    def _send_json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        body = (json.dumps(payload, separators=(",", ":"), allow_nan=False) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (bad request line, unsupported method, oversized headers) as JSON."""
        self.close_connection = True
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "error"
        self._send_json(code, {"error": _one_line(message or phrase)})

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.access_log:
            super().log_message(format, *args)

    def _route(self) -> str:
        return urlsplit(self.path).path

    def do_GET(self) -> None:
        self._guarded(self._get)

    def do_POST(self) -> None:
        self._guarded(self._post)

    def _guarded(self, action: Callable[[], None]) -> None:
        """Run ``action``; a bad request becomes its JSON error, a failure inside the server a one-line 500."""
        try:
            action()
        except RequestError as exc:
            self._send_json(exc.status, {"error": _one_line(str(exc))})
        except (ConnectionError, TimeoutError):
            self.close_connection = True  # the client went away or stalled; nobody to answer
        except Exception as exc:  # the boundary: never a traceback to the client
            print(f"serve: error answering {self.command} {_one_line(self.path)[:200]}:", file=sys.stderr)
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            self._send_json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": _one_line(f"internal error: {exc}")})

    def _get(self) -> None:
        route, routes = self._route(), self.server.routes
        if route == routes.health:
            if self.server.model is None:
                raise RequestError("the model is still loading", HTTPStatus.SERVICE_UNAVAILABLE)
            self._send_json(HTTPStatus.OK, {"status": "ready"})
        elif route == routes.predict:
            self._not_allowed("POST")
        else:
            self._not_found(route)

    def _post(self) -> None:
        route, routes = self._route(), self.server.routes
        if route == routes.predict:
            body = self._read_body()
            model = self.server.model
            if model is None:
                raise RequestError("the model is still loading", HTTPStatus.SERVICE_UNAVAILABLE)
            predictions = model.predict(decode_batch(body, model.shape, self.server.limits))
            self._send_json(HTTPStatus.OK, {"predictions": predictions})
            return
        self._drain(self._content_length(allow_missing=True) or 0)
        if route == routes.health:
            self._not_allowed("GET")
        else:
            self._not_found(route)

    def _not_found(self, route: str) -> None:
        known = f"{self.server.routes.health} (GET) and {self.server.routes.predict} (POST)"
        self._send_json(
            HTTPStatus.NOT_FOUND, {"error": f"no route {_one_line(route)[:200]}; routes: {known}"}
        )

    def _not_allowed(self, allowed: str) -> None:
        self._send_json(
            HTTPStatus.METHOD_NOT_ALLOWED,
            {"error": f"{self.command} is not allowed on {_one_line(self._route())[:200]}; use {allowed}"},
            {"Allow": allowed},
        )

    def _content_length(self, allow_missing: bool = False) -> int | None:
        value = self.headers.get("Content-Length")
        if value is None:
            if allow_missing:
                return None
            raise RequestError("the request has no Content-Length (and is not chunked)")
        if not value.strip().isdigit():
            self.close_connection = True
            raise RequestError(f"bad Content-Length {value!r}")
        return int(value)

    def _read_body(self) -> bytes:
        """The request body, refused unread (and the connection then closed) past the byte limit."""
        limit = self.server.limits.max_request_bytes
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked(limit)
        length = self._content_length() or 0
        if length > limit:
            self._drain(length)
            raise RequestError(f"the body is {length} bytes; the limit is {limit} (split the batch)")
        body = self.rfile.read(length)
        if len(body) < length:
            self.close_connection = True
            raise RequestError(f"the body ended after {len(body)} of {length} bytes")
        return body

    def _drain(self, length: int) -> None:
        """Read and drop a body we will not use, so the connection can carry the next request."""
        if length > DRAIN_BYTES:
            self.close_connection = True
            return
        while length > 0:
            chunk = self.rfile.read(min(length, CHUNK))
            if not chunk:
                self.close_connection = True
                return
            length -= len(chunk)

    def _read_chunked(self, limit: int) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                self.close_connection = True
                raise RequestError("bad chunked encoding") from None
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers
                    pass
                return b"".join(parts)
            total += size
            if total > limit:
                self.close_connection = True
                raise RequestError(f"the body is over {limit} bytes; the limit is {limit} (split the batch)")
            part = self.rfile.read(size)
            if len(part) < size:
                self.close_connection = True
                raise RequestError("the chunked body ended early")
            parts.append(part)
            self.rfile.readline(1024)  # the CRLF after each chunk
