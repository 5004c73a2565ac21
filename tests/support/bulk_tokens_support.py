"""Many token rows at once, written straight to the table: lists and commands are tested at sizes where
issuing each token through the manager (scopes checked, secret hashed) would only slow the suite down."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from people.models import User
from tokens.models import PersonalAccessToken, expiring_from

_serial = count()


def token_row(owner: User, **fields: Any) -> PersonalAccessToken:
    """An unsaved Hard Limit token of ``owner`` with a unique public id; ``fields`` override any column."""
    serial = next(_serial)
    values: dict[str, Any] = {
        "owner": owner,
        "label": f"bulk {serial}",
        "lookup_id": f"bulk{serial:08d}",
        "digest": "0" * 64,
        "pepper_version": 1,
        "expiration_model": PersonalAccessToken.HARD_LIMIT,
        "expires_at": fields.get("created_at", datetime(2026, 3, 2, tzinfo=UTC)) + timedelta(days=30),
    }
    values.update(fields)
    token = PersonalAccessToken(**values)
    if "expiring_from" not in fields:
        # As ``issue`` and ``save`` keep it: bulk_create calls neither.
        token.expiring_from = expiring_from(token.hard_end, token.created_at)
    return token


def make_tokens(
    owner: User, number: int, *, start: datetime, step: timedelta = timedelta(minutes=1), **fields: Any
) -> list[PersonalAccessToken]:
    """``number`` tokens of ``owner`` created ``step`` apart from ``start`` on, in one INSERT."""
    return PersonalAccessToken.objects.bulk_create(
        token_row(owner, created_at=start + step * index, **fields) for index in range(number)
    )
