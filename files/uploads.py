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

import logging
from collections.abc import Mapping
from typing import Any, cast

from django.conf import settings
from django.http import HttpRequest

from files.blobs import Readable
from files.errors import IncompleteUpload, LengthRequired, NodeError, UploadTooLarge

logger = logging.getLogger(__name__)

__all__ = ["DeclaredBody", "IncompleteUpload", "LengthRequired", "RequestBody", "declared_length"]


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
