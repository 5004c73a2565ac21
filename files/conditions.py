"""Conditional writes: ``If-Match`` and ``If-None-Match`` on an upload (RFC 9110 §13.1), REST and WebDAV alike.

A script that read a file (and its ``ETag``) can replace it only if nobody has changed it since
(``If-Match: "<etag>"``), and create a file only if the name is still free (``If-None-Match: *``); otherwise it
gets 412 and nothing changes. The condition is checked once when the request arrives (before the body is read)
and again against the file as it is when the write takes place (``files.services.write_file``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.utils.http import parse_etags

ANY = "*"


@dataclass(frozen=True)
class Conditions:
    #: The entity tags of If-Match, as sent (quoted, "*" for any); None without the header.
    match: tuple[str, ...] | None
    #: Likewise for If-None-Match.
    none_match: tuple[str, ...] | None

    def allows(self, etag: str | None) -> bool:
        """Whether a write may go on over the file with ``etag`` (None: no file there)."""
        current = f'"{etag}"' if etag is not None else None
        # If-Match compares strongly: a weak tag never matches (§13.1.1).
        if self.match is not None and (current is None or (ANY not in self.match and current not in self.match)):
            return False
        # If-None-Match compares weakly (§13.1.2).
        if self.none_match is not None and current is not None:
            weak = {tag.removeprefix("W/") for tag in self.none_match}
            if ANY in weak or current in weak:
                return False
        return True


def from_request(request: HttpRequest) -> Conditions | None:
    """The request's write conditions, or None when it sets neither header."""
    return from_headers(request.headers.get("If-Match"), request.headers.get("If-None-Match"))


def from_headers(match: str | None, none_match: str | None) -> Conditions | None:
    """Write conditions from the two headers' values (None: not sent), or None when neither was sent."""
    if match is None and none_match is None:
        return None
    return Conditions(
        match=_tags(match) if match is not None else None,
        none_match=_tags(none_match) if none_match is not None else None,
    )


def _tags(header: str) -> tuple[str, ...]:
    # Django's parser: "*" alone, or a list of (W/)"…" tags; a malformed header is an empty list, which no
    # file matches (If-Match then fails, If-None-Match never does).
    return tuple(parse_etags(header))
