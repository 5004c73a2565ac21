"""The cursor for the hot statements of every request: prepared once per connection on PostgreSQL, sent
straight to the driver on SQLite.

Every WebDAV or REST request runs the same few plain statements (``tokens.lookup``, ``files.raw_sql``): the token,
the path, a new file's row. Sent as text, each is parsed and planned again on every request, and for these
lookups by key the planning costs PostgreSQL several times what running them does (a token lookup: about
0.1 ms to plan, 0.02 ms to run; a path lookup with its grant: 0.2 ms and 0.05 ms). Prepared once on each
connection (psycopg's prepared statements: the parameters are sent apart from the statement, which the server
parses once and, after a few runs, plans once), the later runs skip both, and psycopg no longer writes the
values into the statement's text either. Django leaves prepared statements off by default, as connection
poolers in transaction mode (PgBouncer before 1.21) cannot carry them between clients; ``DATABASE_PREPARED``
(``settings.DATABASE_PREPARED``, on by default) turns them off for such a set-up.

The cursor goes through Django's wrapper as ``connection.cursor()`` would (query logging and counting, the
translation of errors, the check of thread sharing); only the cursor class underneath differs, and the query log
shows each statement with its values written in, as before.

On SQLite the statements are small and answered in microseconds, and Django's cursor is most of what running
one costs: its wrapper layers and, on every execute, the rewriting of the statement's ``%s`` or ``%(name)s``
placeholders into SQLite's (a regular expression, or a ``%`` over the whole text). The cursor here rewrites each
statement once and keeps it, and hands it to the driver with what Django's wrapper does that matters (the
translation of errors into Django's, the refusal inside a broken transaction). Where Django logs queries
(``DEBUG``, ``CaptureQueriesContext`` in the tests that count them) it is Django's own cursor, so that every
statement is logged. Any other database gets its ordinary cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper


@dataclass(frozen=True)
class _Postgres:
    """What a prepared cursor needs from the PostgreSQL backend, imported on first use (its modules need psycopg,
    which a SQLite set-up may lack)."""

    cursor_class: type[Any]
    timestamptz_oid: int
    text_format: Any
    register_tzloader: Callable[[Any, Any], None]


def _load() -> _Postgres:
    # Defined only under psycopg 3, which the stubs do not know.
    from django.db.backends.postgresql.base import TIMESTAMPTZ_OID, ServerBindingCursor  # type: ignore[attr-defined]
    from django.db.backends.postgresql.psycopg_any import register_tzloader  # type: ignore[import-untyped]
    from psycopg.pq import Format

    class PreparingCursor(ServerBindingCursor):  # type: ignore[misc]
        """Django's server-side-binding cursor, asking psycopg to prepare every statement it runs (psycopg keeps
        each connection's prepared statements, up to ``prepared_max``, by statement and parameter types)."""

        def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None, binary: Any = None) -> Any:
            return super().execute(query, params, prepare=True, binary=binary)

    return _Postgres(PreparingCursor, TIMESTAMPTZ_OID, Format.TEXT, register_tzloader)


_postgres: _Postgres | None = None


def cursor(alias: str = "default") -> CursorWrapper:
    """A cursor on ``alias`` for the statements of every request: prepared on PostgreSQL (unless
    ``settings.DATABASE_PREPARED`` is off), the connection's ordinary cursor elsewhere. Use it as
    ``connection.cursor()``, in a ``with`` block."""
    global _postgres
    connection = connections[alias]
    if connection.vendor == "sqlite" and not connection.queries_logged:
        return _sqlite_cursor(connection)
    if connection.vendor != "postgresql" or not settings.DATABASE_PREPARED:
        return connection.cursor()
    if _postgres is None:
        _postgres = _load()
    connection.ensure_connection()
    raw = _postgres.cursor_class(connection.connection)
    # As the backend's create_cursor does: the cursor gets its own time zone only when the connection's differs.
    loader = connection.connection.adapters.get_loader(_postgres.timestamptz_oid, _postgres.text_format)
    if loader.timezone != connection.timezone:
        _postgres.register_tzloader(connection.timezone, raw)
    # As connection.cursor() wraps its cursors.
    connection.validate_thread_sharing()
    if connection.queries_logged:
        return _Logged(raw, connection)
    wrapped: CursorWrapper = connection.make_cursor(raw)
    return wrapped


def _sqlite_cursor(connection: Any) -> CursorWrapper:
    # As connection.cursor() opens its cursors (BaseDatabaseWrapper._cursor).
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        return _SQLite(connection.connection.cursor(), connection)


@lru_cache(maxsize=1024)
def _sqlite_statement(sql: str, named: bool) -> str:
    """``sql`` with SQLite's placeholders: ``:name`` for ``%(name)s``, ``?`` for ``%s``, as Django's cursor rewrites
    them on every execute (``SQLiteCursorWrapper.convert_query``), here once per statement."""
    if named:
        return sql % _Named()
    rewritten: str = FORMAT_QMARK_REGEX.sub("?", sql).replace("%%", "%")
    return rewritten


class _Named(dict[str, str]):
    """``%(name)s`` written as ``:name``, whatever the name (a statement's text names its parameters)."""

    def __missing__(self, name: str) -> str:
        return f":{name}"


class _SQLite(CursorWrapper):
    """Django's cursor wrapper over the driver's own cursor: the statement rewritten once (``_sqlite_statement``),
    errors translated as Django's cursor translates them."""

    def execute(self, sql: Any, params: Any = None) -> Any:
        self.db.validate_no_broken_transaction()
        with self.db.wrap_database_errors:
            if params is None:
                return self.cursor.execute(sql)
            return self.cursor.execute(_sqlite_statement(sql, isinstance(params, Mapping)), params)

    def executemany(self, sql: Any, param_list: Any) -> Any:
        self.db.validate_no_broken_transaction()
        rows = list(param_list)
        with self.db.wrap_database_errors:
            return self.cursor.executemany(_sqlite_statement(sql, bool(rows) and isinstance(rows[0], Mapping)), rows)

    def fetchone(self) -> Any:
        with self.db.wrap_database_errors:
            return self.cursor.fetchone()

    def fetchall(self) -> list[Any]:
        with self.db.wrap_database_errors:
            rows: list[Any] = self.cursor.fetchall()
            return rows


class _Logged(CursorDebugWrapper):
    """Django's query log (``DEBUG``, ``CaptureQueriesContext``) for a prepared statement: the statement with its
    values written in, as Django's own cursor would have sent it (the driver keeps no text of a prepared run)."""

    def execute(self, sql: Any, params: Any = None) -> Any:
        with self.debug_sql(self.db.ops.compose_sql(sql, params)):
            return CursorWrapper.execute(self, sql, params)  # past CursorDebugWrapper.execute, which logs too


def in_one_round_trip(alias: str = "default") -> bool:
    """Whether :func:`one_round_trip` can send statements on ``alias`` together: PostgreSQL with prepared
    statements, a driver that can pipeline, and no transaction open (the statements then make one of their
    own)."""
    connection = connections[alias]
    if connection.vendor != "postgresql" or not settings.DATABASE_PREPARED:
        return False
    if connection.in_atomic_block or not connection.get_autocommit():
        return False
    import psycopg

    return bool(psycopg.Pipeline.is_supported())


@contextmanager
def one_round_trip(alias: str = "default") -> Iterator[None]:
    """The statements run in the block (on cursors from :func:`cursor`) are sent together and answered together,
    in one transaction: outside a transaction, the extended protocol runs everything up to its ``Sync`` as one
    implicit transaction, committed when the block ends or wholly rolled back if any statement fails (PostgreSQL's
    protocol, "Extended Query"). Each statement still reads what has committed when it starts, as in any
    transaction at READ COMMITTED, and a lock one takes (``pg_advisory_xact_lock``) is held until the end.
    BEGIN and COMMIT are not sent: for a write that takes a lock and then inserts, one round trip instead of four.
    Only where :func:`in_one_round_trip` says so. Results (``rowcount``, rows) are there once the block has
    ended; an error is raised as Django's, when the block ends."""
    connection = connections[alias]
    connection.ensure_connection()
    with connection.wrap_database_errors, connection.connection.pipeline():
        yield
