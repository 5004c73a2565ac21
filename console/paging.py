"""Page numbers for the console's paged lists: whatever ``?page=`` holds, a page is shown, never an error."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

#: Digits only: int() would also take "1_000", " 7 " or non-ASCII digits, none of which a link of ours writes.
_MAX_DIGITS = 9


def page_number(raw: str | None, num_pages: int) -> int:
    """``last`` is the last page; a number past the end is the last page, one below 1 the first; anything
    else (empty, text, a fraction, an absurdly long number) is the first page."""
    text = (raw or "").strip()
    if text.lower() == "last":
        return num_pages
    if not text.isascii() or not text.lstrip("-").isdigit() or len(text) > _MAX_DIGITS + 1:
        return 1
    return min(max(int(text), 1), num_pages)


def page_of(queryset: QuerySet[Any], raw: str | None, per_page: int) -> Page[Any]:
    """The page ``raw`` names: one COUNT, then one query with LIMIT/OFFSET when the page is evaluated."""
    paginator = Paginator(queryset, per_page, allow_empty_first_page=True)
    return paginator.page(page_number(raw, paginator.num_pages))
