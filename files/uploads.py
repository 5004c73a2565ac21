"""The raw body of an upload, read in chunks straight from the WSGI input.

Never ``request.body``: that would hold the whole file in memory (and trip ``DATA_UPLOAD_MAX_MEMORY_SIZE``).
A declared ``Content-Length`` over ``MAX_UPLOAD_SIZE`` is refused before a byte is read; a body that ends
before its declared length (the client went away) raises :class:`IncompleteUpload`, so the write in
``files.services`` is abandoned and the previous content stays.
"""

from __future__ import annotations

from typing import IO, cast

from django.conf import settings
from django.http import HttpRequest

from files.services import NodeError, UploadTooLarge


class IncompleteUpload(NodeError):
    pass


class LengthRequired(NodeError):
    """A chunked body that this WSGI server does not de-chunk (Django's runserver): refused, never stored empty."""


class RequestBody:
    def __init__(self, request: HttpRequest) -> None:
        self.expected = _content_length(request)
        if self.expected is not None and self.expected > settings.MAX_UPLOAD_SIZE:
            raise UploadTooLarge(f"The file is larger than the limit of {settings.MAX_UPLOAD_SIZE} bytes.")
        self.stream: IO[bytes] | HttpRequest = request
        if self.expected is None and request.META.get("wsgi.input_terminated"):
            # Chunked transfer: Django reads nothing without a Content-Length, but the server (gunicorn)
            # promises that the raw input ends with the body.
            self.stream = cast(IO[bytes], request.META["wsgi.input"])
        elif self.expected is None and request.META.get("HTTP_TRANSFER_ENCODING"):
            raise LengthRequired("This server needs a Content-Length for uploads.")
        content_type = request.content_type or ""
        # "application/octet-stream" says nothing: let the tree guess from the name instead.
        self.content_type = "" if content_type in {"", "application/octet-stream"} else content_type[:255]
        self.received = 0

    def read(self, size: int = -1, /) -> bytes:
        try:
            chunk = self.stream.read(size)
        except OSError as exc:  # the connection broke mid-body
            raise IncompleteUpload("The upload was interrupted.") from exc
        self.received += len(chunk)
        if not chunk and self.expected is not None and self.received < self.expected:
            raise IncompleteUpload("The upload ended before its Content-Length.")
        return chunk


def _content_length(request: HttpRequest) -> int | None:
    value = request.META.get("CONTENT_LENGTH")
    if not value:
        return None
    try:
        length = int(value)
    except ValueError:
        raise NodeError("Content-Length is not a number.") from None
    if length < 0:
        raise NodeError("Content-Length is negative.")
    return length
