"""Bad input never takes the server down: each is a 400 (404, 405, 501 for routes and methods) with a
one-line JSON error, and the server answers the next request."""

from __future__ import annotations

import base64
import io
import json
import socket
import struct
import zlib
from typing import Any

import numpy as np
import pytest

GOOD = [[0] * 28] * 28


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG declaring ``width`` x ``height`` pixels in a few dozen bytes (a decompression bomb's header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def _image_bytes(size: int, fmt: str) -> bytes:
    from PIL import Image

    noise = np.random.default_rng(size).integers(0, 256, (size, size), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, format=fmt)
    return buffer.getvalue()


def _b64(data: bytes) -> dict[str, str]:
    return {"b64": base64.b64encode(data).decode()}


def _body(instances: Any) -> bytes:
    return json.dumps({"instances": instances}).encode()


BAD_BODIES = {
    "not JSON": (b"instances: [1, 2]", "not JSON"),
    "not UTF-8": (b'{"instances": ["\xff\xfe"]}', "not JSON"),
    "empty body": (b"", "not JSON"),
    "NaN": (b'{"instances": [NaN]}', "NaN is not JSON"),
    "deep nesting": (b"[" * 200_000 + b"]" * 200_000, "nests too deeply"),
    "a JSON list": (b"[1, 2, 3]", "must be a JSON object"),
    "no instances": (b'{"inputs": []}', 'no "instances"'),
    "instances not a list": (b'{"instances": {"b64": ""}}', '"instances" must be a list'),
    "no instance": (_body([]), '"instances" is empty'),
    "too many instances": (_body([[[0]]] * 1025), "1025 instances in one request; the limit is 1024"),
    "parameters not an object": (
        b'{"instances": [[[0]]], "parameters": [1]}',
        '"parameters" must be an object',
    ),
    "a number instance": (_body([7]), "expected nested lists of pixels"),
    "a string instance": (_body(["aGk="]), "expected nested lists of pixels"),
    "smaller image": (_body([[[0] * 28] * 27]), "the model takes 28x28 images, got 27x28"),
    "larger image": (_body([[[0] * 32] * 32]), "the model takes 28x28 images, got 32x32"),
    "three channels": (_body([[[[0, 0, 0]] * 28] * 28]), "takes 28x28 or 28x28x1 pixel arrays, got 28x28x3"),
    "one row": (_body([[0] * 784]), "takes 28x28 or 28x28x1 pixel arrays, got 784"),
    "ragged": (_body([[[0] * 28] * 27 + [[0] * 27]]), "not a rectangular array"),
    "empty image": (_body([[]]), "an empty array"),
    "fractions": (_body([[[0.5] * 28] * 28]), "integers 0-255, got non-integer numbers"),
    "integral floats": (_body([[[1.0] * 28] * 28]), "got non-integer numbers"),
    "over 255": (_body([[[256] * 28] * 28]), "must lie in 0-255, got 256 to 256"),
    "negative": (_body([[[-1] + [0] * 27] * 28]), "must lie in 0-255, got -1 to 0"),
    "huge integer": (_body([[[10**30] * 28] * 28]), "integers 0-255 in nested lists"),
    "strings as pixels": (_body([[["0"] * 28] * 28]), "integers 0-255 in nested lists"),
    "booleans": (_body([[[True] * 28] * 28]), "integers 0-255 in nested lists"),
    "nulls": (_body([[[None] * 28] * 28]), "integers 0-255 in nested lists"),
    "object without b64": (_body([{"image": "x"}]), 'must be {"b64"'),
    "b64 not a string": (_body([{"b64": 12}]), "b64 must be a string"),
    "bad base64": (_body([{"b64": "not base64!"}]), "b64 is not valid base64"),
    "bytes not an image": (_body([_b64(b"hello, world")]), "does not hold a PNG or JPEG"),
    "a GIF": (_body([_b64(_image_bytes(28, "GIF"))]), "does not hold a PNG or JPEG"),
    "PNG of another size": (
        _body([_b64(_image_bytes(32, "PNG"))]),
        "the model takes 28x28 images, got 32x32",
    ),
    "JPEG of another size": (
        _body([_b64(_image_bytes(14, "JPEG"))]),
        "the model takes 28x28 images, got 14x14",
    ),
    "truncated PNG": (_body([_b64(_image_bytes(28, "PNG")[:400])]), "cannot be decoded"),
    "decompression bomb": (_body([_b64(_png_header_only(100_000, 100_000))]), "decompression bomb"),
    "large declared PNG": (_body([_b64(_png_header_only(10_000, 10_000))]), "got 10000x10000"),
    "second instance bad": (
        _body([GOOD, [[0] * 28] * 3]),
        "instance 1: the model takes 28x28 images, got 3x28",
    ),
}


def _assert_one_line_error(reply: Any, status: int, fragment: str) -> None:
    assert reply.status == status, reply.body
    assert reply.headers["content-type"] == "application/json"
    assert reply.body.endswith(b"\n") and reply.body.count(b"\n") == 1
    error = reply.json()["error"]
    assert fragment in error and "Traceback" not in error


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_bad_body_is_a_400_and_the_server_keeps_serving(server, http_send, case: str) -> None:
    body, fragment = BAD_BODIES[case]
    connection = server.connect()
    _assert_one_line_error(http_send(connection, "POST", "/predict", body), 400, fragment)
    # the same keep-alive connection, then a new one, still get answers
    assert http_send(connection, "POST", "/predict", _body([GOOD])).status == 200
    connection.close()
    assert server.request("GET", "/health").status == 200


def test_a_body_over_the_byte_limit_is_refused(server, http_send) -> None:
    images = [[[255] * 28] * 28] * 1000  # ~2.9 MB of JSON, under the instance cap
    body = _body(images)
    assert len(body) > 1_572_864
    connection = server.connect()
    reply = http_send(connection, "POST", "/predict", body)
    _assert_one_line_error(reply, 400, f"the body is {len(body)} bytes; the limit is 1572864")
    assert http_send(connection, "POST", "/predict", _body([GOOD])).status == 200  # drained: still usable
    connection.close()


def test_a_huge_declared_body_is_refused_unread(server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as raw:
        raw.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000000\r\n\r\n")
        reply = raw.makefile("rb").read()  # the server answers and closes without waiting for the body
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ") and b"Connection: close" in head
    assert b"the limit is 1572864" in body and body.count(b"\n") == 1


def test_chunked_bodies_are_read_and_limited(server) -> None:
    def chunked(payload: bytes) -> bytes:
        chunks = [payload[i : i + 4096] for i in range(0, len(payload), 4096)]
        return b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"

    head = b"POST /predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    for payload, status in ((_body([GOOD]), b"200"), (_body([[[255] * 28] * 28] * 600), b"400")):
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as raw:
            raw.sendall(head + chunked(payload))
            assert raw.makefile("rb").read().startswith(b"HTTP/1.1 " + status)


@pytest.mark.parametrize(
    ("method", "path", "status", "fragment"),
    [
        ("GET", "/", 404, "no route /; routes: /health (GET) and /predict (POST)"),
        ("POST", "/v1/models/x:predict", 404, "no route /v1/models/x:predict"),
        ("GET", "/predict", 405, "GET is not allowed on /predict; use POST"),
        ("POST", "/health", 405, "POST is not allowed on /health; use GET"),
        ("PUT", "/predict", 501, "Unsupported method"),
        ("DELETE", "/health", 501, "Unsupported method"),
    ],
)
def test_routes_and_methods(server, method: str, path: str, status: int, fragment: str) -> None:
    reply = server.request(method, path, b"{}" if method != "GET" else None)
    _assert_one_line_error(reply, status, fragment)
    if status == 405:
        assert reply.headers["allow"] in ("GET", "POST")
    assert server.request("GET", "/health?probe=1").json() == {"status": "ready"}


def test_a_malformed_request_line_is_a_json_400(server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as raw:
        raw.sendall(b"GET /health with spaces HTTP/1.1\r\nHost: x\r\n\r\n")
        head, _, body = raw.makefile("rb").read().partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert json.loads(body) == {"error": "Bad request syntax ('GET /health with spaces HTTP/1.1')"}
