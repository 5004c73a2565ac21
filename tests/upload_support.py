"""Request bodies that do not arrive whole, as the WSGI servers hand them to the application, and a client that
hangs up on a real server in the middle of one.

In-process: ``wsgi.input`` objects that end early (a server's answer to a short body with a Content-Length:
b"" before the declared length), break (the client reset the connection), or are gunicorn's and cheroot's own
readers of a chunked body that stops before its last chunk. Over a socket: :func:`hang_up`.
"""

from __future__ import annotations

import io
import socket
import struct
from types import SimpleNamespace

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
