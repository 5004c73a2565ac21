"""lib.prepared on PostgreSQL: the hot statements are prepared once per connection, and stay right through what
discards a connection's prepared statements (a rollback) or turns them off (DATABASE_PREPARED); statements sent
together in one round trip are one transaction."""

from __future__ import annotations

import pytest
from django.db import DataError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from files import raw_sql
from lib import prepared
from people.models import User
from tests.support.round_trips import database_round_trips

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="runs against PostgreSQL (DATABASE_URL=postgres://…)"),
    pytest.mark.django_db(transaction=True),
]


def test_a_statement_is_parsed_once_per_connection(demo):
    raw_sql.nodes_at("common", [""], grantee=demo.alice.pk)
    with database_round_trips(connection) as again:
        found, grant = raw_sql.nodes_at("common", [""], grantee=demo.alice.pk)
    assert set(found) == {""}
    assert grant is not None and grant.read
    assert (again.count, again.parsed) == (1, 0), again.sent


def test_prepared_statements_stay_right_after_a_rollback(demo):
    raw_sql.nodes_at("common", [""])
    # A failed transaction rolls back; psycopg then drops the connection's prepared statements.
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(login="alice")
    with database_round_trips(connection) as after:
        found, _grant = raw_sql.nodes_at("common", [""])
    assert set(found) == {""}
    assert after.parsed == 1, after.sent  # prepared afresh


def test_the_query_log_shows_the_values(demo):
    with CaptureQueriesContext(connection) as queries:
        raw_sql.nodes_at("common", ["/nowhere"])
    assert "'/nowhere'" in queries.captured_queries[-1]["sql"]


def test_turned_off_the_statements_are_sent_as_text(demo, settings):
    settings.DATABASE_PREPARED = False
    with database_round_trips(connection) as found, prepared.cursor() as cursor:
        cursor.execute("SELECT %s::int", [1])
        assert cursor.fetchone() == (1,)
    assert found.parsed == 0
    assert found.sent[-1].startswith("Query"), found.sent


def _rename_alice_then_divide_by(divisor: int) -> None:
    """Two statements in one round trip."""
    table = connection.ops.quote_name(User._meta.db_table)
    with prepared.cursor() as cursor:
        with prepared.one_round_trip():
            cursor.execute(f"UPDATE {table} SET display_name = %s WHERE login = %s", ["Changed", "alice"])  # noqa: S608
            cursor.execute("SELECT 1 / %s", [divisor])
        assert cursor.fetchone() == (1,)  # the last statement's answer, there once the block has ended


def test_statements_sent_in_one_round_trip_are_one_transaction(demo):
    assert prepared.in_one_round_trip()
    with database_round_trips(connection) as found, pytest.raises(DataError):
        _rename_alice_then_divide_by(0)
    assert found.sent.count("Sync") == 1, found.sent
    demo.alice.refresh_from_db()
    assert demo.alice.display_name != "Changed"  # the UPDATE went with the failed statement's transaction
    _rename_alice_then_divide_by(1)
    demo.alice.refresh_from_db()
    assert demo.alice.display_name == "Changed"


def test_inside_a_transaction_statements_are_not_sent_together(demo):
    with transaction.atomic():
        assert not prepared.in_one_round_trip()
