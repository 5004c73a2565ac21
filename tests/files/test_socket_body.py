"""``files.uploads.SocketBody`` over gunicorn's own body reader on a real socket pair: it takes what gunicorn
already buffered, reads the rest from the socket and never past the body's end, keeps gunicorn's count so that
the next request on the connection starts where it should, and refuses a body that ends early. Over a real
gunicorn: ``tests/e2e/test_dav_socket_body.py``."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import threading
from collections.abc import Iterator

import pytest
from gunicorn.http.body import Body, ChunkedReader, LengthReader  # type: ignore[import-untyped]
from gunicorn.http.unreader import SocketUnreader  # type: ignore[import-untyped]

from files import blobs
from files.errors import IncompleteUpload
from files.uploads import DeclaredBody, SocketBody, wsgi_body


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    client, server = socket.socketpair()
    with client, server:
        yield client, server


def _body(server: socket.socket, length: int, *, buffered: bytes = b"") -> Body:
    """gunicorn's reader of a body of ``length`` bytes, holding ``buffered`` (read with the request's head)."""
    unreader = SocketUnreader(server)
    unreader.unread(buffered)
    return Body(LengthReader(unreader, length))


def _read_all(stream: SocketBody) -> bytes:
    view, out = memoryview(bytearray(4096)), bytearray()
    while count := stream.readinto(view):
        out += view[:count]
    return bytes(out)


def test_buffered_bytes_come_first_and_the_next_request_stays_for_gunicorn(pair):
    client, server = pair
    content, after = os.urandom(50_000), b"GET /next HTTP/1.1\r\n\r\n"
    body = _body(server, len(content), buffered=content[:1000])
    client.sendall(content[1000:] + after)
    stream = wsgi_body({"wsgi.input": body}, len(content))
    assert isinstance(stream, SocketBody)
    assert _read_all(stream) == content
    assert body.read() == b""  # gunicorn's count is at the body's end: nothing more of it to drain
    assert body.reader.unreader.read(len(after)) == after  # the next request, untouched


def test_a_body_held_whole_with_the_head_leaves_what_follows_it(pair):
    _client, server = pair
    content, after = b"hello", b"PUT /x HTTP/1.1\r\n"
    body = _body(server, len(content), buffered=content + after)
    stream = wsgi_body({"wsgi.input": body}, len(content))
    assert isinstance(stream, SocketBody)
    assert stream.read() == content and stream.read(10) == b""
    assert body.reader.unreader.read(len(after)) == after


def test_a_body_that_ends_early_is_incomplete_and_the_connection_not_reused(pair):
    client, server = pair
    body = _body(server, 10_000)
    client.sendall(b"y" * 3000)
    client.shutdown(socket.SHUT_WR)
    stream = wsgi_body({"wsgi.input": body}, 10_000)
    with pytest.raises(IncompleteUpload):
        _read_all(stream)
    assert body.failed


def test_what_is_left_unread_is_drained_by_gunicorn_as_ever(pair):
    client, server = pair
    body = _body(server, 6000)
    client.sendall(b"z" * 6000)
    stream = wsgi_body({"wsgi.input": body}, 6000)
    assert stream.read(1000) == b"z" * 1000
    assert body.read() == b"z" * 5000  # a refused upload's rest, read off by gunicorn before the next request


def test_a_body_is_stored_whole_with_its_md5(pair, demo):
    client, server = pair
    content = os.urandom(700_000)  # more than one buffer: the one buffer is filled again and again
    sender = threading.Thread(target=client.sendall, args=(content,))
    sender.start()
    with blobs.received(wsgi_body({"wsgi.input": _body(server, len(content))}, len(content)), None) as stored:
        assert stored.size == len(content)
        assert stored.md5 == hashlib.md5(content, usedforsecurity=False).hexdigest()
        with blobs.open_blob(stored.name) as handle:
            assert handle.read() == content
    sender.join()


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda server: io.BytesIO(b"abc"), id="another-server"),
        pytest.param(lambda server: Body(ChunkedReader({}, SocketUnreader(server))), id="chunked"),
        pytest.param(lambda server: _body(server, 4), id="length-not-the-declared-one"),
    ],
)
def test_anything_else_is_read_as_before(pair, make):
    _client, server = pair
    assert type(wsgi_body({"wsgi.input": make(server)}, 3)) is DeclaredBody
