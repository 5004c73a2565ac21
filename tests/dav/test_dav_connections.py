"""WebDAV requests recycle database connections as Django's requests do: a connection past ``CONN_MAX_AGE``
(or left unusable) is closed before the request and after its response."""

from __future__ import annotations

import time

import pytest
from django.db import close_old_connections, connection

from dav.app import DavDispatcher


def _not_django(environ, start_response):
    raise AssertionError("a /dav request went to Django")


def test_housekeeping_runs_before_the_request_and_after_its_response():
    calls: list[str] = []

    def dav_app(environ, start_response):
        calls.append("request")
        start_response("200 OK", [])
        return [b"ok"]

    dispatcher = DavDispatcher(_not_django, dav_app)
    assert dispatcher.housekeeping is close_old_connections
    dispatcher.housekeeping = lambda: calls.append("housekeeping")
    result = dispatcher({"PATH_INFO": "/dav/common"}, lambda *args: None)
    assert calls == ["housekeeping", "request"]
    assert b"".join(result) == b"ok"
    result.close()  # type: ignore[attr-defined]
    assert calls == ["housekeeping", "request", "housekeeping"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the in-memory SQLite test database never closes")
def test_a_connection_past_its_age_is_closed_before_the_next_dav_request():
    seen: list[object] = []

    def dav_app(environ, start_response):
        seen.append(connection.connection)
        start_response("200 OK", [])
        return [b""]

    dispatcher = DavDispatcher(_not_django, dav_app)
    connection.ensure_connection()
    stale = connection.connection
    connection.close_at = time.monotonic() - 1
    result = dispatcher({"PATH_INFO": "/dav/common"}, lambda *args: None)
    assert seen == [None]  # closed before the request; the next query opens a fresh one
    assert stale.closed
    connection.ensure_connection()
    connection.close_at = time.monotonic() - 1
    result.close()  # type: ignore[attr-defined]
    assert connection.connection is None
