"""lib.prepared on SQLite: the hot statements go to the driver's cursor with their placeholders rewritten once,
and behave as through Django's cursor: the same rows, Django's errors, no statement in a broken transaction, and
every statement in the query log when Django keeps one."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from files import raw_sql
from lib import prepared
from people.models import User

pytestmark = [
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite cursor (the PostgreSQL one: test_prepared)"),
    pytest.mark.django_db,
]

USERS = connection.ops.quote_name(User._meta.db_table)
LOGIN = connection.ops.quote_name(User._meta.get_field("login").column)


def test_the_statements_go_to_the_drivers_cursor(demo):
    with prepared.cursor() as cursor:
        assert type(cursor).__name__ == "_SQLite"
        cursor.execute(f"SELECT {LOGIN} FROM {USERS} WHERE {LOGIN} = %(login)s", {"login": "alice"})  # noqa: S608
        assert cursor.fetchall() == [("alice",)]
        cursor.execute(f"SELECT {LOGIN} FROM {USERS} WHERE {LOGIN} IN (%s, %s) ORDER BY 1", ["bob", "alice"])  # noqa: S608
        assert cursor.fetchall() == [("alice",), ("bob",)]
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_a_literal_percent_sign_stays_one():
    with prepared.cursor() as cursor:
        cursor.execute("SELECT '100%%', %s", ["x"])
        assert cursor.fetchone() == ("100%", "x")
        cursor.execute("SELECT '100%%', %(value)s", {"value": "y"})
        assert cursor.fetchone() == ("100%", "y")


@given(values=st.lists(st.one_of(st.integers(-(2**63), 2**63 - 1), st.text(), st.none()), min_size=1, max_size=6))
def test_the_driver_gets_the_values_as_django_would_send_them(values):
    placeholders = ", ".join(["%s"] * len(values))
    named = ", ".join(f"%(v{index})s" for index in range(len(values)))
    with connection.cursor() as django_cursor:
        django_cursor.execute(f"SELECT {placeholders}", values)
        expected = django_cursor.fetchone()
    with prepared.cursor() as cursor:
        cursor.execute(f"SELECT {placeholders}", values)
        assert cursor.fetchone() == expected
        cursor.execute(f"SELECT {named}", {f"v{index}": value for index, value in enumerate(values)})
        assert cursor.fetchone() == expected


def test_many_rows_at_once(demo):
    with prepared.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE pairs (a, b)")
        cursor.executemany("INSERT INTO pairs VALUES (%s, %s)", [(1, "x"), (2, "y")])
        cursor.executemany("INSERT INTO pairs VALUES (%(a)s, %(b)s)", iter([{"a": 3, "b": "z"}]))
        cursor.execute("SELECT a, b FROM pairs ORDER BY a")
        assert cursor.fetchall() == [(1, "x"), (2, "y"), (3, "z")]


def test_errors_are_djangos(demo):
    with pytest.raises(IntegrityError), transaction.atomic(), prepared.cursor() as cursor:
        cursor.execute(f"INSERT INTO {USERS} ({LOGIN}) VALUES (%s)", ["alice"])  # noqa: S608


def test_no_statement_runs_in_a_broken_transaction(demo):
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            User.objects.create(login="alice")
        with pytest.raises(TransactionManagementError), prepared.cursor() as cursor:
            cursor.execute("SELECT 1")
        transaction.set_rollback(True)


def test_where_django_logs_queries_every_statement_is_logged(demo):
    with CaptureQueriesContext(connection) as queries:
        raw_sql.nodes_at("common", ["/nowhere"])
    assert "'/nowhere'" in queries.captured_queries[-1]["sql"]
