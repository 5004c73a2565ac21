"""Paging of every REST listing: a JSON array of at most ``limit`` items, the next page announced
only in a ``Link: <…>; rel="next"`` header, whose URL carries an opaque ``cursor``.

Pages are keyset pages: a listing is ordered by a unique key (a folder's children by name then uuid, the
workspaces by slug, tokens newest first by creation then uuid), the cursor holds the key of the last item sent,
and the next page is the rows after it.
The database then reads ``limit + 1`` rows along an index whatever the listing's size or the page's depth (an
OFFSET would read and drop every row before the page), and rows added or removed meanwhile never shift a page.

A cursor is urlsafe base64 of the JSON array of the key's values. It is opaque to clients but not secret, nor
signed: it only says where to resume, and anything it could claim is still filtered by the principal's reach.
A cursor that does not decode to this listing's key is a 422 like any other invalid parameter.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Field, Schema
from ninja.errors import ValidationError

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
#: Longer than any cursor this API issues (a 255-character name in JSON, then base64), short enough that a
#: hostile one costs nothing to refuse.
MAX_CURSOR_LENGTH = 4096

RowT = TypeVar("RowT", bound=Model)


class PageQuery(Schema):
    """The query parameters every listing takes."""

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"At most this many items (1 to {MAX_LIMIT}).")
    cursor: str | None = Field(
        None,
        max_length=MAX_CURSOR_LENGTH,
        pattern=r"^[A-Za-z0-9_-]*$",
        description='Where the page starts: copy it from the `Link: <…>; rel="next"` header of the previous '
        "page. Opaque; leave it out for the first page.",
    )


#: The 200 response's ``Link`` header, for the OpenAPI document (``openapi_extra`` of each listing).
LINK_HEADER: dict[str, Any] = {
    "Link": {
        "description": 'Present when there is a next page: `<URL>; rel="next"`, the same request with the '
        "cursor of the next page.",
        "schema": {"type": "string"},
    }
}


def link_header_doc() -> dict[str, Any]:
    """``openapi_extra`` for a listing: its 200 response documents the ``Link`` header."""
    return {"responses": {"200": {"headers": LINK_HEADER}}}


def _invalid_cursor(message: str) -> ValidationError:
    # The shape of ninja's own 422s, which the document declares for every endpoint.
    return ValidationError([{"type": "value_error", "loc": ["query", "cursor"], "msg": message}])


def text(value: str) -> str:
    """A cursor's text value, as a key column takes it."""
    # PostgreSQL refuses a NUL in a string; no key of ours has one.
    if "\x00" in value:
        raise ValueError("a NUL character")
    return value


def moment(value: str) -> datetime:
    """A cursor's date-time value; an aware one only, as every stored moment is."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("a moment without its offset")
    return parsed


@dataclass(frozen=True)
class Keyset:
    """A listing's order: model fields that together are unique, each with the parser of its cursor value;
    ascending, or all descending (newest first)."""

    fields: tuple[str, ...]
    parsers: tuple[Callable[[str], Any], ...]
    descending: bool = False

    @property
    def ordering(self) -> tuple[str, ...]:
        return tuple(f"-{field}" for field in self.fields) if self.descending else self.fields

    def decode(self, cursor: str) -> tuple[Any, ...]:
        """The key a cursor resumes after; ninja's 422 for anything that is not a cursor of this listing."""
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            values = json.loads(raw.decode())
        except (binascii.Error, ValueError):  # bad base64, bad UTF-8 and bad JSON are all ValueErrors
            raise _invalid_cursor("Not a cursor: copy it from the Link header of the previous page.") from None
        if (
            not isinstance(values, list)
            or len(values) != len(self.fields)
            or not all(isinstance(value, str) for value in values)
        ):
            raise _invalid_cursor("Not a cursor of this listing.")
        try:
            return tuple(parse(value) for parse, value in zip(self.parsers, values, strict=True))
        except ValueError:
            raise _invalid_cursor("Not a cursor of this listing.") from None

    def encode(self, row: Model) -> str:
        values = [str(getattr(row, field)) for field in self.fields]
        raw = json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def after(self, key: Sequence[Any]) -> Q:
        """Rows strictly after ``key`` in this order: a >= x and ((a > x) or (a = x and b > y) or …), with <= and
        < when descending. The first term says the same as the rest; it is there for the planner, which starts an
        index range scan at it (an OR of ranges it would scan from the start of the listing)."""
        beyond, reaching = ("lt", "lte") if self.descending else ("gt", "gte")
        condition = Q()
        for depth, field in enumerate(self.fields):
            equal = dict(zip(self.fields[:depth], key[:depth], strict=True))
            condition |= Q(**equal, **{f"{field}__{beyond}": key[depth]})
        return Q(**{f"{self.fields[0]}__{reaching}": key[0]}) & condition


def page(
    request: HttpRequest,
    response: HttpResponse,
    queryset: QuerySet[RowT],
    keyset: Keyset,
    query: PageQuery,
) -> list[RowT]:
    """One page of ``queryset`` in ``keyset``'s order (one query, with a LIMIT); when more rows follow, the
    ``Link`` header of ``response`` points at the next page."""
    if query.cursor is not None:
        queryset = queryset.filter(keyset.after(keyset.decode(query.cursor)))
    # One row more than the page tells whether another page follows, without a COUNT.
    rows = list(queryset.order_by(*keyset.ordering)[: query.limit + 1])
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        response["Link"] = f'<{next_url(request, keyset.encode(rows[-1]))}>; rel="next"'
    return rows


def next_url(request: HttpRequest, cursor: str) -> str:
    """The request's own path and query, with ``cursor`` in place of the one it had: a path URL, which a client
    resolves against the URL it asked (RFC 8288 §3.2), right behind any proxy that rewrites the host."""
    parameters = [(name, value) for name, values in request.GET.lists() if name != "cursor" for value in values]
    parameters.append(("cursor", cursor))
    return f"{request.path}?{urlencode(parameters)}"
