"""Serving a file's bytes over HTTP: ETag and Last-Modified, ``If-None-Match`` and ``If-Modified-Since`` (304), a
single ``Range`` (RFC 9110 sections 13 and 14).

One range is served as 206; several ranges are answered with the whole file (RFC 9110 allows ignoring Range),
as is a Range header that is not ``bytes=…`` syntax at all. A range that starts beyond the end, or that ends
before it starts, is 416 with ``Content-Range: bytes */<size>``.

What goes out with the bytes (the sandbox, the served type, an attachment) is ``files.media_types``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO

from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils.http import http_date, parse_etags, parse_http_date_safe

from files import media_types, services
from files.conditions import modified_second
from files.models import Node

CHUNK_SIZE = 256 * 1024
# At most 18 digits: far beyond any file size, and never a number Python refuses to convert.
_RANGE = re.compile(r"bytes=(?P<start>\d{0,18})-(?P<end>\d{0,18})")


class RangeNotSatisfiable(Exception):
    pass


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte of a single range; None to send the whole file."""
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or (not match["start"] and not match["end"]):
        return None
    if not match["start"]:  # suffix: the last N bytes
        suffix = int(match["end"])
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(size - suffix, 0), size - 1
    first = int(match["start"])
    last = int(match["end"]) if match["end"] else size - 1
    if first >= size or last < first:
        raise RangeNotSatisfiable
    return first, min(last, size - 1)


def quoted_etag(node: Node) -> str:
    return f'"{node.etag}"'


def _matches(header: str, etag: str) -> bool:
    """Weak comparison, as If-None-Match asks (RFC 9110 §13.1.2)."""
    tags = parse_etags(header)
    return "*" in tags or etag in (tag.removeprefix("W/") for tag in tags)


def _slice(handle: IO[bytes], first: int, length: int) -> Iterator[bytes]:
    with handle:
        handle.seek(first)
        while length > 0:
            chunk = handle.read(min(CHUNK_SIZE, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk


def _not_modified(request: HttpRequest, node: Node, etag: str) -> bool:
    """Whether the client's copy is current: its If-None-Match, or (only without one, §13.1.3) a
    If-Modified-Since no earlier than the file's modification."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match:
        return _matches(if_none_match, etag)
    since = parse_http_date_safe(request.headers.get("If-Modified-Since") or "")
    return since is not None and modified_second(node) <= since


def content_response(request: HttpRequest, node: Node) -> HttpResponse:
    """The bytes of the file ``node``: 200, 206, 304 or 416, each with ``media_types.USER_BYTES_HEADERS``."""
    response = _content_response(request, node)
    for name, value in media_types.USER_BYTES_HEADERS.items():
        response[name] = value
    return response


def _content_response(request: HttpRequest, node: Node) -> HttpResponse:
    etag = quoted_etag(node)
    validators = {"ETag": etag, "Last-Modified": http_date(modified_second(node))}
    if _not_modified(request, node, etag):
        return HttpResponse(status=304, headers=validators)

    range_header = request.headers.get("Range")
    if_range = request.headers.get("If-Range")
    if if_range is not None and if_range.strip() != etag:
        range_header = None  # the client's copy is stale: send it all
    try:
        wanted = byte_range(range_header, node.size)
    except RangeNotSatisfiable:
        refused = JsonResponse({"detail": f"The range is outside the file's {node.size} bytes."}, status=416)
        refused["Content-Range"] = f"bytes */{node.size}"
        return refused

    content_type = media_types.served_type(node.content_type)
    handle = services.open_content(node)
    response: HttpResponse | StreamingHttpResponse
    if wanted is None:
        response = FileResponse(handle, content_type=content_type)
        response["Content-Length"] = str(node.size)
    else:
        first, last = wanted
        length = last - first + 1
        response = StreamingHttpResponse(_slice(handle, first, length), status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {first}-{last}/{node.size}"
        response["Content-Length"] = str(length)
    # An API download is always a download, never a page.
    response["Content-Disposition"] = media_types.content_disposition(node.name)
    for name, value in validators.items():
        response[name] = value
    response["Accept-Ranges"] = "bytes"
    return response  # type: ignore[return-value]
