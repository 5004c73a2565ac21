"""Conditional writes: ``If-Match``, ``If-None-Match`` and ``If-Unmodified-Since`` on an upload (RFC 9110
§13.1), REST and WebDAV alike.

A script that read a file (and its ``ETag`` or ``Last-Modified``) can replace it only if nobody has changed it
since (``If-Match: "<etag>"``, ``If-Unmodified-Since: <date>``), and create a file only if the name is still
free (``If-None-Match: *``); otherwise it gets 412 and nothing changes. The condition is checked once when the
request arrives (before the body is read) and again against the file as it is when the write takes place
(``files.services.write_file``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.http import HttpRequest
from django.utils.http import parse_etags, parse_http_date_safe

if TYPE_CHECKING:
    from files.models import Node

ANY = "*"


def modified_second(node: Node) -> int:
    """A file's modification time as ``Last-Modified`` states it: whole seconds since 1970."""
    return int(node.mtime.timestamp())


@dataclass(frozen=True)
class Conditions:
    #: The entity tags of If-Match, as sent (quoted, "*" for any); None without the header.
    match: tuple[str, ...] | None
    #: Likewise for If-None-Match.
    none_match: tuple[str, ...] | None
    #: If-Unmodified-Since, in seconds since 1970; None without the header, or with one that is no HTTP date
    #: (which §13.1.4 says to ignore).
    unmodified_since: int | None = None

    def allows(self, current: Node | None) -> bool:
        """Whether a write may go on over the file ``current`` (None: no file there)."""
        etag = f'"{current.etag}"' if current is not None else None
        # If-Match compares strongly: a weak tag never matches (§13.1.1).
        if self.match is not None and (etag is None or (ANY not in self.match and etag not in self.match)):
            return False
        # If-None-Match compares weakly (§13.1.2).
        if self.none_match is not None and etag is not None:
            weak = {tag.removeprefix("W/") for tag in self.none_match}
            if ANY in weak or etag in weak:
                return False
        # If-Unmodified-Since: ignored beside If-Match, and where there is no file to have a date (§13.1.4).
        if self.unmodified_since is not None and self.match is None and current is not None:
            return modified_second(current) <= self.unmodified_since
        return True


def from_request(request: HttpRequest) -> Conditions | None:
    """The request's write conditions, or None when it sets none of their headers."""
    headers = request.headers
    return from_headers(headers.get("If-Match"), headers.get("If-None-Match"), headers.get("If-Unmodified-Since"))


def from_headers(match: str | None, none_match: str | None, unmodified_since: str | None = None) -> Conditions | None:
    """Write conditions from the headers' values (None: not sent), or None when none of them is sent (or only
    an If-Unmodified-Since that is no date)."""
    since = parse_http_date_safe(unmodified_since) if unmodified_since is not None else None
    if match is None and none_match is None and since is None:
        return None
    return Conditions(
        match=_tags(match) if match is not None else None,
        none_match=_tags(none_match) if none_match is not None else None,
        unmodified_since=since,
    )


def _tags(header: str) -> tuple[str, ...]:
    # Django's parser: "*" alone, or a list of (W/)"…" tags; a malformed header is an empty list, which no
    # file matches (If-Match then fails, If-None-Match never does).
    return tuple(parse_etags(header))
