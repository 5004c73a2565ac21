"""The inventory's page is chosen on the token table alone, so a status filter costs one page's walk of the
(created_at, uuid) index on a large instance too, not a sort of every matching token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from people.models import User
from tests.support.bulk_tokens_support import make_tokens
from tests.support.paging_support import capture, limit_of, select_statements

#: What ANALYZE wrote for the token table at the bench's S3 (100,000 tokens of 10,000 users), by index column
#: list: handed to SQLite's planner, they make it plan as it does there.
_S3_STATS = {
    ("created_at", "uuid"): "100000 1 1",
    ("owner_id", "created_at", "uuid"): "100000 10 1 1",
    ("owner_id",): "100000 10",
    ("created_by_id",): "100000 50000",
    ("expires_at",): "100000 3",
    ("last_used_at",): "100000 100000",
    ("uuid",): "100000 1",
    ("lookup_id",): "100000 1",
}


@pytest.fixture
def s3_statistics(demo: object) -> Iterator[None]:
    """The planner's statistics of a 100,000-token instance, whatever the test database holds."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's planner, as the bench serves it")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("DELETE FROM sqlite_stat1 WHERE tbl IN ('tokens_personalaccesstoken', 'people_user')")
        cursor.execute("SELECT name FROM pragma_index_list('tokens_personalaccesstoken')")
        for (index,) in cursor.fetchall():
            cursor.execute("SELECT name FROM pragma_index_info(%s) ORDER BY seqno", [index])
            columns = tuple(name for (name,) in cursor.fetchall())
            if columns in _S3_STATS:
                stat = _S3_STATS[columns]
                cursor.execute("INSERT INTO sqlite_stat1 VALUES ('tokens_personalaccesstoken', %s, %s)", [index, stat])
        cursor.execute("SELECT name FROM pragma_index_list('people_user')")
        for (index,) in cursor.fetchall():
            cursor.execute("INSERT INTO sqlite_stat1 VALUES ('people_user', %s, '10000 1')", [index])
        cursor.execute("ANALYZE sqlite_schema")  # reloads the statistics
    yield
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM sqlite_stat1")
        cursor.execute("ANALYZE sqlite_schema")


def _live_tokens(owner: User) -> None:
    now = timezone.now()
    make_tokens(owner, 60, start=now - timedelta(days=1), expires_at=now + timedelta(days=30))


def _page_query(admin_client, path: str) -> str:
    with capture() as queries:
        response = admin_client.get(path)
    assert response.status_code == 200
    return next(sql for sql in select_statements(queries) if re.search(r'ORDER BY "tokens_personalaccesstoken"', sql))


def _plan(sql: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return [row[3] for row in cursor.fetchall()]


def test_the_filtered_page_chooses_its_tokens_on_the_token_table_alone(admin_client, demo):
    _live_tokens(demo.alice)
    sql = _page_query(admin_client, "/tokens/?status=active")
    inner = sql[sql.index("IN (SELECT") :]
    assert limit_of(inner) == 51 and "JOIN" not in inner.split("LIMIT")[0]
    # The rows then come with their owner and creator, in the same statement.
    assert "JOIN" in sql[: sql.index("IN (SELECT")]


def test_on_a_large_instance_the_active_tokens_page_walks_the_creation_index(admin_client, demo, s3_statistics):
    _live_tokens(demo.alice)
    plan = _plan(_page_query(admin_client, "/tokens/?status=active"))
    # Not every user and then each one's tokens, all sorted: the newest tokens by the index, a page's worth.
    assert not any(step.startswith("SCAN people_user") for step in plan), plan
    assert any("USING INDEX tokens_pat_created" in step for step in plan), plan
