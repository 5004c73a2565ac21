"""Keyset pages of a query, newest first: each page starts from the row a cursor names, so that the database reads
one page's worth of an index whatever the page's depth (an OFFSET reads and throws away every row before it).

A list is ordered by a moment and a unique key (``created_at, uuid``; ``at, id``), both descending. A cursor is
the opaque, URL-safe spelling of one row's (moment, key): "older" pages start below it, "newer" pages above it.
A cursor that does not decode is no cursor at all (the first page): links outlive the rows they name, and a
hand-edited one must not raise.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from django.db.models import Model, Q, QuerySet
from django.utils.dateparse import parse_datetime

M = TypeVar("M", bound=Model)

#: Counts stop here: "more than 1,000" reads as well as 100,000 and costs a bounded scan.
COUNT_CAP = 1000


def encode_cursor(moment: datetime, key: object) -> str:
    return base64.urlsafe_b64encode(f"{moment.isoformat()}|{key}".encode()).decode().rstrip("=")


def decode_cursor(text: str | None, parse_key: Callable[[str], Any]) -> tuple[datetime, Any] | None:
    """(moment, key) from a cursor, or None for anything that is not one of ours."""
    if not text or len(text) > 200:
        return None
    try:
        plain = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        moment_text, key_text = plain.split("|", 1)
        moment = parse_datetime(moment_text)
        if moment is None or moment.tzinfo is None:
            return None
        # In UTC here, where a moment off the calendar (year 1 east of UTC) raises, not in the database driver.
        moment = moment.astimezone(UTC)
        key = parse_key(key_text)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, OverflowError):
        return None
    return moment, key


def row_id(text: str) -> int:
    """An integer primary key from a cursor; ValueError for what no row has (a BIGINT's range included)."""
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 2**63:
        raise ValueError(text)
    return int(text)


@dataclass
class KeysetPage(Generic[M]):
    items: list[M]
    #: The cursor of the next older page, or None on the oldest.
    older: str | None
    #: The cursor of the next newer page, or None on the newest (then the page is the first page).
    newer: str | None
    #: Rows matching the query, at most COUNT_CAP + 1 counted.
    count: int

    @property
    def count_capped(self) -> bool:
        return self.count > COUNT_CAP

    @property
    def has_other_pages(self) -> bool:
        return self.older is not None or self.newer is not None


def first_rows(ordered: QuerySet[M], limit: int) -> list[M]:
    """The first ``limit`` rows of ``ordered``, chosen by their primary keys on the table alone (a subquery with
    the LIMIT), then read with whatever the query joins (``select_related``).

    Asked for joins, a filter, ORDER BY and LIMIT at once, SQLite's planner may start from a joined table (every
    user, then each one's tokens) and sort every matching row before it takes the first few; on the table alone it
    walks the (moment, key) index and stops after ``limit`` rows."""
    keys = ordered.values("pk")[:limit]
    return list(ordered.filter(pk__in=keys)[:limit])


def keyset_page(
    queryset: QuerySet[M],
    *,
    moment: str,
    key: str,
    size: int,
    before: str | None = None,
    after: str | None = None,
    parse_key: Callable[[str], Any] = str,
) -> KeysetPage[M]:
    """One page of ``queryset`` ordered by (``moment``, ``key``) descending: below the cursor ``before``, above
    the cursor ``after``, else the first. Three queries, each with a LIMIT: a capped count, the page (one row
    more than shown, to know whether another page follows) and, on a page reached by a cursor, whether rows lie
    on its other side."""

    def older_than(at: datetime, pk: Any) -> Q:
        return Q(**{f"{moment}__lt": at}) | Q(**{moment: at, f"{key}__lt": pk})

    def newer_than(at: datetime, pk: Any) -> Q:
        return Q(**{f"{moment}__gt": at}) | Q(**{moment: at, f"{key}__gt": pk})

    def cursor_of(item: M) -> str:
        return encode_cursor(getattr(item, moment), getattr(item, key))

    def position(item: M) -> tuple[datetime, Any]:
        return getattr(item, moment), getattr(item, key)

    count = queryset.order_by()[: COUNT_CAP + 1].count()
    descending = queryset.order_by(f"-{moment}", f"-{key}")
    below = decode_cursor(before, parse_key)
    above = decode_cursor(after, parse_key) if below is None else None

    if above is not None:
        rising = first_rows(queryset.filter(newer_than(*above)).order_by(moment, key), size + 1)
        if len(rising) > size:
            items = rising[:size][::-1]
            further_older = queryset.filter(older_than(*position(items[-1])))[:1].exists()
            return KeysetPage(items, cursor_of(items[-1]) if further_older else None, cursor_of(items[0]), count)
        # Nothing newer beyond: the newest page, which is the first page, full.
        below = None

    rows = first_rows(descending.filter(older_than(*below)) if below is not None else descending, size + 1)
    items = rows[:size]
    older = cursor_of(items[-1]) if len(rows) > size else None
    newer = None
    if below is not None:
        edge = position(items[0]) if items else below
        if queryset.filter(newer_than(*edge))[:1].exists():
            newer = cursor_of(items[0]) if items else encode_cursor(*edge)
    return KeysetPage(items, older, newer, count)


def in_batches(queryset: QuerySet[M], size: int = 500) -> Iterator[M]:
    """Every row of ``queryset``, read ``size`` at a time in primary-key order, each batch a fresh query from
    where the last ended: memory stays flat, and rows the caller deletes on the way are never read twice."""
    last: Any = None
    while True:
        batch = queryset.order_by("pk")
        if last is not None:
            batch = batch.filter(pk__gt=last)
        rows = list(batch[:size])
        yield from rows
        if len(rows) < size:
            return
        last = rows[-1].pk
