"""What the gateway answers: a status, headers and a body (bytes, or an iterable streamed as it is read), and the
XML documents of S3's list operations."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote
from xml.sax.saxutils import escape

from s3.listing import Entry

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
XML = "application/xml"


@dataclass
class Response:
    status: int = 200
    #: A list is sent with its length; anything else streamed (its length given by the operation).
    body: Iterable[bytes] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    #: Closed once the response has been sent (an open file).
    closing: object | None = None


def xml(root: str, inner: str, status: int = 200) -> Response:
    document = f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{NAMESPACE}">{inner}</{root}>'.encode()
    return Response(status=status, body=[document], headers={"Content-Type": XML})


def element(name: str, value: object) -> str:
    return f"<{name}>{escape(str(value))}</{name}>"


def timestamp(when: datetime) -> str:
    """S3's ISO 8601 form, in UTC, to the millisecond."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def encoded(key: str, encoding: str) -> str:
    """A key as a listing shows it: percent-encoded when the client asked ``encoding-type=url``."""
    return quote(key, safe="/") if encoding == "url" else key


def contents(entry: Entry, etag: str, encoding: str) -> str:
    node = entry.node
    assert node is not None
    return (
        "<Contents>"
        + element("Key", encoded(entry.key, encoding))
        + element("LastModified", timestamp(node.mtime))
        + element("ETag", etag)
        + element("Size", node.size)
        + element("StorageClass", "STANDARD")
        + "</Contents>"
    )


def common_prefix(entry: Entry, encoding: str) -> str:
    return "<CommonPrefixes>" + element("Prefix", encoded(entry.key, encoding)) + "</CommonPrefixes>"
