"""The raw body of an upload, read in chunks as the WSGI server hands it over, by every protocol that takes one.

Never ``request.body``: that would hold the whole file in memory (and trip ``DATA_UPLOAD_MAX_MEMORY_SIZE``).
A declared ``Content-Length`` over ``MAX_UPLOAD_SIZE`` is refused before a byte is read.

A body that does not arrive whole is never stored. WSGI servers say so in two ways: a body shorter than its
``Content-Length`` simply ends early (gunicorn, cheroot and Django's runserver all hand over b"" once the client
has closed the connection), and one whose reading fails raises (a reset connection; a chunked body cut before
its last chunk: gunicorn's ``NoMoreData`` or ``ChunkMissingTerminator``, cheroot's ``ValueError``).
:class:`DeclaredBody` turns both into :class:`IncompleteUpload`, so that the write in ``files.services`` is
abandoned and the previous content stays; and it never reads past the declared length, whatever the input
holds beyond it.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from typing import Any, cast

from django.conf import settings
from django.http import HttpRequest

from files.blobs import Readable
from files.errors import IncompleteUpload, LengthRequired, NodeError, UploadTooLarge

logger = logging.getLogger(__name__)

__all__ = [
    "DeclaredBody",
    "IncompleteUpload",
    "LengthRequired",
    "RequestBody",
    "SocketBody",
    "declared_length",
    "wsgi_body",
]


def declared_length(environ: Mapping[str, Any]) -> int | None:
    """The length a request declares for its body (``Content-Length``); None when it declares none, as a chunked
    body does, whose end the server marks. NodeError for a length that is no length, LengthRequired for a
    chunked body that the server neither de-chunks nor ends (it would read as empty)."""
    value = environ.get("CONTENT_LENGTH")
    if not value:
        if environ.get("HTTP_TRANSFER_ENCODING") and not environ.get("wsgi.input_terminated"):
            raise LengthRequired("This server needs a Content-Length for uploads.")
        return None
    try:
        length = int(value)
    except ValueError:
        raise NodeError("Content-Length is not a number.") from None
    if length < 0:
        raise NodeError("Content-Length is negative.")
    return length


class DeclaredBody:
    """``stream``, a request's body as the server hands it over, read against its declared length ``expected``
    (None: the server ends the body itself). A read returns b"" once ``expected`` bytes have been read, and
    raises IncompleteUpload when the body ends before them or reading it fails."""

    def __init__(self, stream: Readable, expected: int | None) -> None:
        self.stream = stream
        self.expected = expected
        self.received = 0

    def read(self, size: int = -1, /) -> bytes:
        if self.expected is not None:
            left = self.expected - self.received
            if left <= 0:
                return b""  # anything beyond is not this request's body
            size = left if size < 0 else min(size, left)
        if size == 0:
            return b""
        try:
            chunk = self.stream.read(size)
        except Exception as exc:
            # Whatever the server raised, the rest of the body cannot be had: the client is answered 400 (if it
            # still listens) and nothing is stored. Not an error of this server's: no traceback.
            logger.info("An upload's body broke off: %s", type(exc).__name__)
            raise IncompleteUpload("The upload was interrupted before its body was complete.") from exc
        self.received += len(chunk)
        if not chunk and self.expected is not None:
            raise IncompleteUpload("The upload ended before its Content-Length.")
        return chunk


class RequestBody(DeclaredBody):
    """The body of a Django request (the REST API's uploads), with its content type."""

    def __init__(self, request: HttpRequest) -> None:
        expected = declared_length(request.META)
        if expected is not None and expected > settings.MAX_UPLOAD_SIZE:
            raise UploadTooLarge(f"The file is larger than the limit of {settings.MAX_UPLOAD_SIZE} bytes.")
        stream: Readable = request
        if expected is None and request.META.get("wsgi.input_terminated"):
            # Chunked transfer: Django reads nothing without a Content-Length, but the server (gunicorn)
            # promises that the raw input ends with the body.
            stream = cast(Readable, request.META["wsgi.input"])
        super().__init__(stream, expected)
        content_type = request.content_type or ""
        # "application/octet-stream" says nothing: let the tree guess from the name instead.
        self.content_type = "" if content_type in {"", "application/octet-stream"} else content_type[:255]


class SocketBody:
    """A body of known length read from gunicorn's socket straight into the caller's buffer (``readinto``).

    gunicorn's own reader (``Body.read``) hands over each chunk as a new bytes object, built through two
    ``BytesIO`` buffers: every byte of an upload is copied four or five times, into memory freshly taken from the
    system each time (gthread's worker threads give it back between reads), which cost more CPU than writing the
    file. Here the bytes go from the socket into one buffer that ``files.blobs`` hashes and writes, and reuses.

    What gunicorn already read of the body (with the request's head, or ahead of an earlier read) comes first;
    it never reads past the body's end. gunicorn's reader is kept counting (``LengthReader.length``), so that
    what a refused upload left unread is drained before the next request on the connection as it always is;
    a broken read marks the body failed, so that gunicorn does not reuse the connection. Same contract as
    :class:`DeclaredBody`: b"" (0) at the end, IncompleteUpload for a body that ends early or breaks off.
    """

    #: ``files.blobs`` reads it with ``readinto``, into one buffer it reuses.
    fills_buffers = True

    def __init__(self, body: Any, reader: Any, unreader: Any) -> None:
        self._body = body
        self._reader = reader
        self._sock = unreader.sock
        # Bytes of the body gunicorn holds: its Body's buffer (already counted off the reader's length), then
        # the unreader's, up to the body's end (anything after it is the next request's, and stays there).
        held = body.buf.getvalue()
        body.buf = io.BytesIO()
        buffered = unreader.buf.getvalue()
        unreader.buf = io.BytesIO()
        take = min(len(buffered), reader.length)
        unreader.buf.write(buffered[take:])
        reader.length -= take
        self._pending = memoryview(held + buffered[:take])
        self.expected = len(self._pending) + reader.length
        self.received = 0

    @classmethod
    def of(cls, stream: object, expected: int) -> SocketBody | None:
        """The fast reader over ``stream`` (a ``wsgi.input``) if it is gunicorn's, for a body of the known length
        ``expected`` of which nothing was read yet; None otherwise (another server, a chunked body, a test's
        stream), and gunicorn's reader is left as it was."""
        try:
            from gunicorn.http.body import Body, LengthReader  # type: ignore[import-untyped]
            from gunicorn.http.unreader import SocketUnreader  # type: ignore[import-untyped]
        except ImportError:  # pragma: no cover - gunicorn is a dependency
            return None
        if type(stream) is not Body or stream.failed:
            return None
        reader = stream.reader
        if type(reader) is not LengthReader or type(reader.unreader) is not SocketUnreader:
            return None
        if len(stream.buf.getvalue()) + reader.length != expected:
            return None
        return cls(stream, reader, reader.unreader)

    def readinto(self, buffer: memoryview | bytearray, /) -> int:
        view = memoryview(buffer).cast("B")
        if self._pending:
            count = min(len(view), len(self._pending))
            view[:count] = self._pending[:count]
            self._pending = self._pending[count:]
            self.received += count
            return count
        left = self._reader.length
        if left <= 0:
            return 0
        try:
            got: int = self._sock.recv_into(view, min(len(view), left))
        except Exception as exc:
            self._body.failed = True
            logger.info("An upload's body broke off: %s", type(exc).__name__)
            raise IncompleteUpload("The upload was interrupted before its body was complete.") from exc
        if got == 0:
            self._body.failed = True
            raise IncompleteUpload("The upload ended before its Content-Length.")
        self._reader.length -= got
        self.received += got
        return got

    def read(self, size: int = -1, /) -> bytes:
        """For a reader that wants bytes (the object store's upload): at most ``size`` bytes (fewer as they
        arrive; b"" only at the end), all of the rest when < 0."""
        if size < 0:
            return b"".join(iter(lambda: self.read(1024 * 1024), b""))
        buffer = bytearray(min(size, self.expected - self.received))
        count = self.readinto(buffer) if buffer else 0
        del buffer[count:]
        return bytes(buffer)


def wsgi_body(environ: Mapping[str, Any], expected: int | None) -> DeclaredBody | SocketBody:
    """A request's body as uploads read it: :class:`SocketBody` under gunicorn with a declared length, else
    ``wsgi.input`` read against that length (:class:`DeclaredBody`)."""
    stream = environ["wsgi.input"]
    if expected is not None and (direct := SocketBody.of(stream, expected)) is not None:
        return direct
    return DeclaredBody(stream, expected)
