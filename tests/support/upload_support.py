"""Request bodies that do not arrive whole, as the WSGI servers hand them to the application, and a client that
hangs up on a real server in the middle of one.

In-process: ``wsgi.input`` objects that end early (a server's answer to a short body with a Content-Length:
b"" before the declared length), break (the client reset the connection), or are gunicorn's and cheroot's own
readers of a chunked body that stops before its last chunk. Over a socket: :func:`hang_up`. The uploads they
are sent by: :data:`UPLOADS`.
"""

from __future__ import annotations

import io
import socket
import struct
from dataclasses import dataclass
from types import SimpleNamespace

from tests.support.api_helpers import API
from tests.support.dav_support import DavClient

EXISTING = "/common/projects/alpha/data.csv"
NEW = "/common/projects/alpha/new.csv"

#: A chunked body cut at each of its parts: inside a chunk, after a chunk's data, before the last chunk's
#: line is complete, after the last chunk but before the blank line that ends the body.
ABORTED_CHUNKED_BODIES = {
    "in-a-chunk": b"a\r\n01234",
    "after-a-chunk": b"a\r\n0123456789",
    "in-a-size-line": b"a\r\n0123456789\r\n5",
    "before-the-end": b"a\r\n0123456789\r\n0\r\n",
}


class ShortInput(io.RawIOBase):
    """A body of which only ``sent`` arrives, then the end (b"") or, with ``error``, that error."""

    def __init__(self, sent: bytes, error: Exception | None = None) -> None:
        self.sent, self.error = sent, error

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.sent:
            size = len(self.sent) if size < 0 else size
            chunk, self.sent = self.sent[:size], self.sent[size:]
            return chunk
        if self.error is not None:
            raise self.error
        return b""


def gunicorn_chunked_input(raw: bytes) -> object:
    """gunicorn's ``wsgi.input`` for a chunked request whose connection delivered ``raw`` and then closed."""
    from gunicorn.http.body import Body, ChunkedReader  # type: ignore[import-untyped]
    from gunicorn.http.unreader import IterUnreader  # type: ignore[import-untyped]

    return Body(ChunkedReader(SimpleNamespace(), IterUnreader([raw])))


def cheroot_chunked_input(raw: bytes) -> object:
    """cheroot's ``wsgi.input`` for a chunked request whose connection delivered ``raw`` and then closed."""
    from cheroot.server import ChunkedRFile

    return ChunkedRFile(io.BufferedReader(io.BytesIO(raw)), maxlen=0)


def hang_up(port: int, head: str, body: bytes, *, how: str) -> bytes:
    """Send a request's ``head`` (its lines, without the blank line) and ``body``, then stop sending, ``how``:
    "half-closed" shuts the sending side and reads the answer (b"" if the server closes without one); "closed"
    closes the connection at once; "reset" aborts it (a TCP reset, as a client killed mid-upload). Only a
    half-closed connection reads an answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode("latin-1") + b"\r\n\r\n" + body)
        if how == "reset":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        if how != "half-closed":
            return b""
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


def status_of(answer: bytes) -> int | None:
    """The status code of a raw HTTP answer; None for no answer."""
    if not answer:
        return None
    return int(answer.split(b" ", 2)[1])


@dataclass
class Upload:
    """One upload path, over WebDAV or the REST API, to an existing file or a new one."""

    protocol: str
    target: str  # the file's public path
    how: str = ""  # REST: "content" (PUT …/content) or "child" (PUT …/children/{name})

    def __str__(self) -> str:
        existing = "existing" if self.target == EXISTING else "new"
        return f"{self.protocol}{'-' + self.how if self.how else ''}-{existing}"

    def put(self, demo, client, body: object, content_length: str, **environ: object) -> int:
        if self.protocol == "dav":
            dav = DavClient("alice", demo.token(demo.alice)[1])
            headers = {key[5:].lower(): value for key, value in environ.items() if key.startswith("HTTP_")}
            extra = {key: value for key, value in environ.items() if not key.startswith("HTTP_")}
            status: int = dav.request(
                "PUT",
                "/dav" + self.target,
                b"",
                wsgi_input=body,
                environ_extra=extra,
                content_length=content_length,
                **headers,
            ).status
            return status
        if self.how == "content":
            url = f"{API}/nodes/{demo.node(self.target).uuid}/content"
        else:
            folder, name = self.target.rsplit("/", 1)
            url = f"{API}/nodes/{demo.node(folder).uuid}/children/{name}"
        response = client.generic(
            "PUT",
            url,
            CONTENT_LENGTH=content_length,
            CONTENT_TYPE="application/octet-stream",
            HTTP_AUTHORIZATION=f"Bearer {demo.token(demo.alice)[1]}",
            **{"wsgi.input": body},
            **environ,
        )
        return int(response.status_code)


UPLOADS = [
    Upload("dav", EXISTING),
    Upload("dav", NEW),
    Upload("rest", EXISTING, "content"),
    Upload("rest", EXISTING, "child"),
    Upload("rest", NEW, "child"),
]
