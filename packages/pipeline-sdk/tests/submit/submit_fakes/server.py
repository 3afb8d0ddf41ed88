"""The fakes' HTTP server: routes of (method, regex) to a handler, every request recorded."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class Reply:
    status: int
    body: Any = None
    delay: float = 0.0


class FakeServer:
    """A ThreadingHTTPServer whose routes are (method, regex) -> handler(match, Recorded) -> Reply."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.closing = threading.Event()
        self.routes: list[tuple[str, re.Pattern[str], Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                split = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                content_type = self.headers.get("Content-Type", "")
                if "json" in content_type and raw:
                    body: Any = json.loads(raw)
                elif "x-www-form-urlencoded" in content_type:
                    body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                else:
                    body = raw
                headers = {k.lower(): v for k, v in self.headers.items()}
                rec = Recorded(self.command, split.path, parse_qs(split.query), headers, body)
                fake.requests.append(rec)
                reply = fake.dispatch(rec)
                if reply.delay and fake.closing.wait(reply.delay):
                    self.close_connection = True  # the test is over: drop the request, answer nothing
                    return
                if isinstance(reply.body, str):
                    payload, content = reply.body.encode(), "text/plain"
                else:
                    payload = b"" if reply.body is None else json.dumps(reply.body).encode()
                    content = "application/json"
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", content)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
                    pass

            do_GET = do_POST = do_HEAD = do_DELETE = do_PATCH = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def route(self, method: str, pattern: str, handler: Any) -> None:
        self.routes.append((method, re.compile(pattern), handler))

    def dispatch(self, rec: Recorded) -> Reply:
        for method, pattern, handler in self.routes:
            match = pattern.fullmatch(rec.path)
            if match and method == rec.method:
                return handler(match, rec)
        return Reply(
            404,
            {"error": {"code": 404, "message": f"no route {rec.method} {rec.path}", "status": "NOT_FOUND"}},
        )

    @staticmethod
    def reply(status: int, body: Any = None, delay: float = 0.0) -> Reply:
        return Reply(status, body, delay)

    @staticmethod
    def error(code: int, status: str, message: str, details: list[Any] | None = None) -> Reply:
        """An error body as Google APIs send it."""
        return google_error(code, status, message, details)

    def sent(self, method: str, path_regex: str) -> list[Recorded]:
        return [
            r for r in self.requests if re.fullmatch(method, r.method) and re.fullmatch(path_regex, r.path)
        ]

    def __enter__(self) -> FakeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def google_error(code: int, status: str, message: str, details: list[Any] | None = None) -> Reply:
    return Reply(
        code, {"error": {"code": code, "message": message, "status": status, "details": details or []}}
    )
