"""Serving a file's bytes over HTTP, REST and WebDAV alike: which part of the file a ``Range`` asks for (RFC 9110
§14), and the REST download itself: ETag and Last-Modified, ``If-None-Match`` and ``If-Modified-Since`` (304),
``If-Range`` (§13).

:func:`requested_range` is the one reading of ``Range`` and ``If-Range``. One range is served as 206. Several
ranges, a header that is not ``bytes=…`` syntax (``bytes=10-5`` included), or an ``If-Range`` the file no
longer matches are answered with the whole file (RFC 9110 allows ignoring Range). A range that starts at or
beyond the end, or a suffix of zero bytes, is 416 with ``Content-Range: bytes */<size>``; so is any range of an
empty file, of which no part can be sent.

What goes out with the bytes (the sandbox, the served type, an attachment) is ``files.media_types``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils.http import http_date, parse_etags, parse_http_date_safe

from files import media_types, services
from files.conditions import modified_second
from files.models import Node

CHUNK_SIZE = 256 * 1024
# A range-spec (§14.1.1): first-last, first- or -suffix, ASCII digits only (re's \d takes any script's).
_RANGE_SPEC = re.compile(r"(?P<first>[0-9]*)-(?P<last>[0-9]*)")
# Past this many digits a position is beyond any file (and not a number Python would convert).
_DIGITS = 18
_BEYOND = 10**_DIGITS


class RangeNotSatisfiable(Exception):
    pass


@dataclass(frozen=True)
class ByteRange:
    """The inclusive first and last byte of a range within a file of ``size`` bytes."""

    first: int
    last: int
    size: int

    @property
    def length(self) -> int:
        return self.last - self.first + 1

    @property
    def content_range(self) -> str:
        return f"bytes {self.first}-{self.last}/{self.size}"


def _position(digits: str) -> int:
    return int(digits) if len(digits) <= _DIGITS else _BEYOND


def byte_range(header: str | None, size: int) -> ByteRange | None:
    """The one range ``header`` asks of a file of ``size`` bytes; None to send the whole file (no header, not
    ``bytes=`` syntax, several ranges); RangeNotSatisfiable when no byte of it exists."""
    if not header:
        return None
    unit, equals, ranges = header.strip().partition("=")
    if not equals or unit.lower() != "bytes":
        return None
    # A list may hold empty elements (RFC 9110 §5.6.1): "bytes=0-5," is one range.
    specs = [spec.strip(" \t") for spec in ranges.split(",") if spec.strip(" \t")]
    if len(specs) != 1 or (match := _RANGE_SPEC.fullmatch(specs[0])) is None:
        return None
    first, last = match["first"], match["last"]
    if not first:
        if not last:
            return None  # "bytes=-"
        suffix = _position(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable
        return ByteRange(max(size - suffix, 0), size - 1, size)
    start = _position(first)
    if last and _position(last) < start:
        return None  # "bytes=10-5" is no valid range-spec: ignored like any other
    if start >= size:
        raise RangeNotSatisfiable
    return ByteRange(start, min(_position(last), size - 1) if last else size - 1, size)


def if_range_holds(if_range: str | None, etag: str, modified: int) -> bool:
    """Whether a Range applies given the request's ``If-Range`` (§13.1.5): none sent, the file's (strong) entity
    tag ``etag`` (quoted), or exactly its modification time ``modified``; anything else sends the whole file."""
    if if_range is None:
        return True
    value = if_range.strip()
    if value.startswith(('"', "W/")):
        return value == etag  # a strong comparison: a weak tag never matches
    return parse_http_date_safe(value) == modified


def requested_range(
    range_header: str | None, if_range: str | None, *, size: int, etag: str, modified: int
) -> ByteRange | None:
    """The range to serve of a file (``etag`` quoted, ``modified`` in seconds since 1970), or None for the whole
    file; RangeNotSatisfiable for a 416."""
    if not if_range_holds(if_range, etag, modified):
        return None
    return byte_range(range_header, size)


def quoted_etag(node: Node) -> str:
    return f'"{node.etag}"'


def _matches(header: str, etag: str) -> bool:
    """Weak comparison, as If-None-Match asks (RFC 9110 §13.1.2)."""
    tags = parse_etags(header)
    return "*" in tags or etag in (tag.removeprefix("W/") for tag in tags)


class _Slice:
    """``length`` bytes of ``handle`` from ``first``, in chunks; closing it closes the file, read or not (a client
    may go before it is read)."""

    def __init__(self, handle: IO[bytes], first: int, length: int) -> None:
        self._handle = handle
        self._first = first
        self._length = length

    def __iter__(self) -> Iterator[bytes]:
        self._handle.seek(self._first)
        remaining = self._length
        while remaining > 0:
            chunk = self._handle.read(min(CHUNK_SIZE, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk

    def close(self) -> None:
        self._handle.close()


def _not_modified(request: HttpRequest, node: Node, etag: str) -> bool:
    """Whether the client's copy is current: its If-None-Match, or (only without one, §13.1.3) a
    If-Modified-Since no earlier than the file's modification."""
    # Not django.utils.cache.get_conditional_response: it also answers a download's failing If-Match with 412,
    # and takes a malformed If-None-Match for none (then obeying If-Modified-Since).
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match:
        return _matches(if_none_match, etag)
    since = parse_http_date_safe(request.headers.get("If-Modified-Since") or "")
    return since is not None and modified_second(node) <= since


def content_response(request: HttpRequest, node: Node, *, body: bool = True) -> HttpResponse:
    """The bytes of the file ``node``: 200, 206, 304 or 416, each with ``media_types.USER_BYTES_HEADERS``.
    Without ``body`` (a HEAD), the same status and headers from the node alone: its bytes are not opened, so an
    object store is not asked for them."""
    response = _content_response(request, node, body=body)
    for name, value in media_types.USER_BYTES_HEADERS.items():
        response[name] = value
    return response


def _content_response(request: HttpRequest, node: Node, *, body: bool) -> HttpResponse:
    etag = quoted_etag(node)
    validators = {"ETag": etag, "Last-Modified": http_date(modified_second(node))}
    if _not_modified(request, node, etag):
        return HttpResponse(status=304, headers=validators)

    try:
        wanted = requested_range(
            request.headers.get("Range"),
            request.headers.get("If-Range"),
            size=node.size,
            etag=etag,
            modified=modified_second(node),
        )
    except RangeNotSatisfiable:
        refused = JsonResponse({"detail": f"The range is outside the file's {node.size} bytes."}, status=416)
        refused["Content-Range"] = f"bytes */{node.size}"
        return refused

    content_type = media_types.served_type(node.content_type)
    status, length = (200, node.size) if wanted is None else (206, wanted.length)
    response: HttpResponse | StreamingHttpResponse
    # A HEAD is answered from the node alone. A GET opens the bytes where those to send begin: a store that
    # cannot be reached fails now, not halfway through.
    if not body:
        response = HttpResponse(status=status, content_type=content_type)
    elif wanted is None:
        response = FileResponse(services.open_content(node), content_type=content_type)
        # Read in large chunks where the server cannot send the file itself (no file descriptor: the object
        # store's stream); FileResponse's default of 4 KiB would cost a write per 4 KiB.
        response.block_size = CHUNK_SIZE
    else:
        handle = services.open_content(node, wanted.first)
        response = StreamingHttpResponse(
            _Slice(handle, wanted.first, wanted.length), status=206, content_type=content_type
        )
    response["Content-Length"] = str(length)
    if wanted is not None:
        response["Content-Range"] = wanted.content_range
    # An API download is always a download, never a page.
    response["Content-Disposition"] = media_types.content_disposition(node.name)
    for name, value in validators.items():
        response[name] = value
    response["Accept-Ranges"] = "bytes"
    return response  # type: ignore[return-value]
