"""Many rows at once for the paging tests: users and tokens inserted in bulk, without hashing or auditing."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from people.models import User
from tokens.models import PersonalAccessToken


def add_users(count: int, prefix: str = "user") -> None:
    User.objects.bulk_create(
        User(login=f"{prefix}{n:04}", display_name=f"Person {n}", email=f"{prefix}{n:04}@example.org")
        for n in range(count)
    )


def add_tokens(owner: User, count: int, *, expired: bool = False, label: str = "bulk") -> None:
    """``count`` tokens of ``owner``, created a minute apart (token 0 the oldest), live or expired."""
    now = timezone.now()
    start = now - timedelta(days=30)
    PersonalAccessToken.objects.bulk_create(
        PersonalAccessToken(
            owner=owner,
            label=f"{label} {n:04}",
            lookup_id=uuid.uuid4().hex[:12],
            digest="0" * 64,
            pepper_version=1,
            expiration_model=PersonalAccessToken.HARD_LIMIT,
            created_at=start + timedelta(minutes=n),
            expires_at=now - timedelta(hours=1, minutes=n) if expired else now + timedelta(days=10),
        )
        for n in range(count)
    )


def select_statements(queries: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in queries.captured_queries if query["sql"].lstrip().upper().startswith("SELECT")]


def capture() -> CaptureQueriesContext:
    return CaptureQueriesContext(connection)


def limit_of(sql: str) -> int:
    """The LIMIT of a statement (Django asks for no more rows than the page holds)."""
    match = re.search(r"\bLIMIT (\d+)", sql)
    assert match is not None, sql
    return int(match[1])
