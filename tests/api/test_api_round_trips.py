"""What one request costs on the production stack, counted at the connections: a request with a good token makes
one database round trip and none to Redis; a refused one still counts its failure in Redis."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

from tests.support.api_helpers import API
from tests.support.round_trips import database_round_trips, redis_round_trips
from tests.support.wsgi import wrong_secret, wsgi_request

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql" or not settings.REDIS_URL,
        reason="runs on PostgreSQL and Redis (DATABASE_URL=postgres://… REDIS_URL=redis://…)",
    ),
    # Real commits, and the application's own request cycle (the test client skips the connection's
    # per-request checks, which are part of what is counted).
    pytest.mark.django_db(transaction=True),
]


def test_a_token_request_makes_one_database_round_trip_and_none_to_redis(demo):
    _token, raw = demo.token(demo.alice)
    headers = {"Authorization": f"Bearer {raw}"}
    # The first use notes its last-use details (a write, then about once a minute) and opens the connections.
    assert wsgi_request("GET", f"{API}/me", headers).status == 200
    with database_round_trips(connection) as database, redis_round_trips() as cache:
        response = wsgi_request("GET", f"{API}/me", headers)
    assert response.status == 200, response.body
    assert database.count <= 1, database.sent
    assert cache.count == 0, cache.sent


def test_a_refused_token_still_counts_its_failure_in_redis(demo):
    token, raw = demo.token(demo.alice)
    assert wsgi_request("GET", f"{API}/me", {"Authorization": f"Bearer {raw}"}).status == 200
    with redis_round_trips() as cache:
        response = wsgi_request("GET", f"{API}/me", {"Authorization": f"Bearer {wrong_secret(token)}"})
    assert response.status == 401
    assert any("INCR" in command.upper() for command in cache.sent), cache.sent


def test_a_connection_the_server_dropped_fails_one_request_with_503_and_is_replaced(demo):
    _token, raw = demo.token(demo.alice)
    headers = {"Authorization": f"Bearer {raw}"}
    assert wsgi_request("GET", f"{API}/me", headers).status == 200
    backend = connection.connection.info.backend_pid
    # From another session, as a restart of the server would end it.
    other = connection.copy()
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
    finally:
        other.close()
    dropped = wsgi_request("GET", f"{API}/me", headers)
    assert dropped.status == 503
    assert ("Retry-After", "5") in dropped.headers
    assert wsgi_request("GET", f"{API}/me", headers).status == 200
