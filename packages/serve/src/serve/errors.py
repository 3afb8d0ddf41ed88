"""The two failures the server tells apart: it cannot start, or one request is bad."""

from __future__ import annotations

from http import HTTPStatus


class ServeError(Exception):
    """The server cannot start (no model, an unreadable model, a bad setting); the CLI prints one line."""


class RequestError(Exception):
    """One request cannot be answered; the client gets ``status`` and ``{"error": message}``."""

    def __init__(self, message: str, status: HTTPStatus = HTTPStatus.BAD_REQUEST) -> None:
        super().__init__(message)
        self.status = status
