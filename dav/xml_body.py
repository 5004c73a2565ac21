"""The body of a WebDAV request other than PUT (whose body is file content): XML for PROPFIND, PROPPATCH and LOCK,
nothing for the other methods.

WsgiDAV reads such a body whole into memory, however long it says it is, and parses it; a chunked one it ignores.
:func:`bound` runs before anything reads it: a declared length over ``settings.DAV_MAX_XML_BODY`` is refused (413)
before a byte is read, and a chunked body is read up to that limit and no further (413 past it), then handed on
with its length as if it had been declared. A body that nests elements deeper than :data:`MAX_DEPTH` is refused
(400): ElementTree parses any depth, but writes elements back out (a property's value, a lock's owner) by
recursion, which Python's recursion limit turns into a server error.
"""

from __future__ import annotations

import io
from typing import Any, BinaryIO
from xml.parsers import expat

from django.conf import settings
from wsgidav.dav_error import HTTP_BAD_REQUEST, HTTP_REQUEST_ENTITY_TOO_LARGE

from dav.errors import Refusal

Environ = dict[str, Any]

#: The methods whose body WsgiDAV parses as XML.
XML_METHODS = frozenset({"PROPFIND", "PROPPATCH", "LOCK"})
#: How deep elements may nest in a request body: WebDAV's own elements take four or five levels, a property's value
#: or a lock's owner the rest.
MAX_DEPTH = 100
_READ_SIZE = 64 * 1024


def bound(environ: Environ) -> bytes | None:
    """Refuse a body over the limit before it is read, or one nested too deep; the body of an XML method (or a
    chunked one), read and put back for WsgiDAV to read again, or None when nothing was read."""
    limit: int = settings.DAV_MAX_XML_BODY
    declared = environ.get("CONTENT_LENGTH", "").strip()
    if not declared:
        if "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            return None
        body = _read_at_most(environ["wsgi.input"], limit)
    elif not declared.isascii() or not declared.isdigit():
        return None  # WsgiDAV refuses a malformed length (400) or takes it for no body
    elif int(declared) > limit:
        raise too_large(limit)
    elif int(declared) == 0 or environ["REQUEST_METHOD"] not in XML_METHODS:
        return None
    else:
        body = environ["wsgi.input"].read(int(declared))
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    # All the client sent has been read: the connection can take the next request.
    environ["wsgidav.all_input_read"] = 1
    # Nesting needs a "<" per level: a body with few of them (nearly every one) is not scanned.
    if environ["REQUEST_METHOD"] in XML_METHODS and body.count(b"<") > MAX_DEPTH and nested_deeper(body, MAX_DEPTH):
        raise Refusal(HTTP_BAD_REQUEST, context_info=f"The XML body nests elements more than {MAX_DEPTH} deep.")
    return body


def too_large(limit: int) -> Refusal:
    return Refusal(
        HTTP_REQUEST_ENTITY_TOO_LARGE,
        context_info=f"The XML body of a WebDAV request may be at most {_size(limit)}.",
    )


def _size(count: int) -> str:
    for unit, name in ((1024**2, "MiB"), (1024, "KiB")):
        if count % unit == 0:
            return f"{count // unit} {name}"
    return f"{count} bytes"


def _read_at_most(stream: BinaryIO, limit: int) -> bytes:
    """The whole of ``stream``, or a 413 once more than ``limit`` bytes have come (and no more than that held)."""
    parts: list[bytes] = []
    size = 0
    while size <= limit:
        part = stream.read(min(_READ_SIZE, limit + 1 - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    if size > limit:
        raise too_large(limit)
    return b"".join(parts)


class _TooDeep(Exception):
    pass


class _Refused(Exception):
    pass


def nested_deeper(body: bytes, limit: int) -> bool:
    """Whether ``body`` nests elements more than ``limit`` deep (a scan that stops there: no tree is built).
    Malformed XML is not this scan's to refuse: the parser that reads it next answers 400."""
    parser = expat.ParserCreate()
    depth = 0

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal depth
        depth += 1
        if depth > limit:
            raise _TooDeep

    def end(name: str) -> None:
        nonlocal depth
        depth -= 1

    def entity(*args: object) -> None:
        # Entities are refused where the body is parsed (defusedxml); none is expanded here either.
        raise _Refused

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.EntityDeclHandler = entity
    try:
        parser.Parse(body, True)
    except _TooDeep:
        return True
    except (expat.ExpatError, _Refused):
        return False
    return False
