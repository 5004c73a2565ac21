"""WebDAV uploads under gunicorn read their body straight from the socket (``files.uploads.SocketBody``), on
gunicorn's sync and gthread workers alike: what arrived with the request's head and what follows are stored
whole with their MD5 as entity tag, a body that arrives in pieces too, and bytes the client sent after the body
(a pipelined request) are the next request's, answered on the same connection."""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.support.dav_support import basic
from tests.support.servers import SlowUpload, gunicorn, manage, scratch_env

pytestmark = pytest.mark.system


@dataclass
class Served:
    port: int
    auth: str


@pytest.fixture(scope="module", params=["sync", "gthread"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data_dir = tmp_path_factory.mktemp(f"socket-body-{request.param}")
    env = scratch_env(data_dir, GUNICORN_CMD_ARGS=f"--worker-class {request.param} --threads 2")
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "seed_demo")
    secret = manage(env, "user_token", "-u", "alice", "-e", "1d", "-q").strip()
    with gunicorn(env, count=1) as (port,):
        yield Served(port, basic("alice", secret))


def _etag(body: bytes) -> str:
    return f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"'


def test_bodies_small_and_large_are_stored_whole_over_one_connection(served):
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
    bodies = {"small.bin": os.urandom(100), "large.bin": os.urandom(3 * 1024 * 1024 + 17), "empty.bin": b""}
    for name, body in bodies.items():
        connection.request("PUT", f"/dav/common/{name}", body=body, headers={"Authorization": served.auth})
        response = connection.getresponse()
        response.read()
        assert response.status == 201, name
        assert response.getheader("ETag") == _etag(body)
    for name, body in bodies.items():  # the same connection: each body was read to its end, and no further
        connection.request("GET", f"/dav/common/{name}", headers={"Authorization": served.auth})
        response = connection.getresponse()
        assert (response.status, response.read(), response.getheader("ETag")) == (200, body, _etag(body))
    connection.close()


def test_a_body_that_arrives_in_pieces_is_stored_whole(served):
    body = os.urandom(300_000)
    upload = SlowUpload(served.port, "/dav/common/slow.bin", body, Authorization=served.auth)
    assert upload.finish().status == 201
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
    connection.request("GET", "/dav/common/slow.bin", headers={"Authorization": served.auth})
    response = connection.getresponse()
    assert (response.status, response.read()) == (200, body)
    connection.close()


def test_a_request_sent_right_after_a_body_is_answered_on_the_same_connection(served):
    body = os.urandom(200_000)
    put = (
        f"PUT /dav/common/pipelined.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {served.auth}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    get = (
        f"GET /dav/common/pipelined.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {served.auth}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", served.port), timeout=30) as sock:
        sock.sendall(put + get)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    first, _sep, rest = answer.partition(b"\r\n")
    assert first == b"HTTP/1.1 201 Created"
    second = rest[rest.index(b"HTTP/1.1 ") :]
    assert second.startswith(b"HTTP/1.1 200 ") and second.endswith(body)
