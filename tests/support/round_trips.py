"""Counting round trips to PostgreSQL and Redis, at the connections themselves, whatever sends them: the ORM's
queries, Django's connection health check, the cache's commands.

PostgreSQL: libpq's own trace of the connection's protocol messages; every message that asks the server to answer
(a simple ``Query``, or the ``Sync`` that ends an extended-protocol statement) is one round trip. Redis: every
packed command redis-py writes to a socket, which it then reads the answer of (a pipeline is one).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
import redis.connection
from django.db.backends.base.base import BaseDatabaseWrapper

_ASKS = {"Query", "Sync"}


@dataclass
class RoundTrips:
    #: What each round trip sent (the statement, or the command's first words), in order.
    sent: list[str] = field(default_factory=list)
    #: PostgreSQL: the command tag of each statement the server completed ("SELECT 1", "INSERT 0 1", "BEGIN").
    completed: list[str] = field(default_factory=list)
    #: PostgreSQL: the statements the server was asked to prepare (parse) within the block.
    parsed: int = 0

    @property
    def count(self) -> int:
        return len(self.sent)


@contextmanager
def database_round_trips(connection: BaseDatabaseWrapper) -> Iterator[RoundTrips]:
    """The round trips made on ``connection`` (PostgreSQL, already connected) within the block. The block must not
    replace the connection: the trace follows the one open when it starts."""
    raw: Any = connection.connection
    assert raw is not None, "connect first: the trace follows an open connection"
    found = RoundTrips()
    with tempfile.TemporaryFile("w+") as trace:
        raw.pgconn.trace(trace.fileno())
        raw.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS | psycopg.pq.Trace.REGRESS_MODE)
        try:
            yield found
        finally:
            raw.pgconn.untrace()
            trace.seek(0)
            for line in trace:
                sender, _length, message, *rest = line.rstrip("\n").split("\t")
                if sender == "F" and message in _ASKS:
                    found.sent.append(f"{message} {rest[0].strip() if rest else ''}".strip())
                elif sender == "F" and message == "Parse":
                    found.parsed += 1
                elif sender == "B" and message == "CommandComplete":
                    found.completed.append(rest[0].strip().strip('"'))
    assert connection.connection is raw, "the connection was replaced: its round trips were not all seen"


@contextmanager
def redis_round_trips() -> Iterator[RoundTrips]:
    """The commands redis-py sends, on any connection of this process, within the block."""
    found = RoundTrips()
    original = redis.connection.AbstractConnection.send_packed_command

    def counted(self: Any, command: Any, check_health: bool = True) -> Any:
        parts = [command] if isinstance(command, bytes | str) else list(command)
        text = b"".join(part if isinstance(part, bytes) else part.encode() for part in parts)
        found.sent.append(" ".join(text.decode(errors="replace").split("\r\n")[2:6:2]))
        return original(self, command, check_health)

    redis.connection.AbstractConnection.send_packed_command = counted  # type: ignore[method-assign]
    try:
        yield found
    finally:
        redis.connection.AbstractConnection.send_packed_command = original  # type: ignore[method-assign]
