"""A database (or Redis) that cannot answer now: 503 with Retry-After on the console, the REST API and WebDAV,
never a 500 or a traceback, and nothing written."""

from __future__ import annotations

import logging

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client
from redis.exceptions import ConnectionError as RedisConnectionError

from files.models import Node
from tests.support.api_helpers import API
from tests.support.dav_support import DavClient

FAILURES = [
    OperationalError("database is locked"),
    OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused"),
    InterfaceError("connection already closed"),
    RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
]


def _failing(error: Exception):
    def fail(*args: object, **kwargs: object) -> None:
        raise error

    return fail


@pytest.mark.parametrize("error", FAILURES, ids=type)
def test_the_api_answers_503_with_retry_after(client, alice, monkeypatch, caplog, error):
    monkeypatch.setattr("tokens.lookup.find_for", _failing(error))
    response = client.get(f"{API}/me", **alice)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "detail": "The service cannot reach its database or cache just now; try again in a few seconds."
    }
    assert str(error) not in response.content.decode()
    assert any(record.exc_info for record in caplog.records if record.levelno >= logging.ERROR)


def test_webdav_answers_503_with_retry_after_when_the_token_check_cannot_reach_the_database(demo, monkeypatch, caplog):
    _token, secret = demo.token(demo.alice)
    monkeypatch.setattr("tokens.lookup.find_for", _failing(OperationalError("database is locked")))
    response = DavClient("alice", secret).request("PROPFIND", "/dav/research/", depth="1")
    assert response.status == 503
    assert response.headers["retry-after"] == "5"
    assert response.body == b"503 Service Unavailable\n"
    assert b"database is locked" not in response.body and b"Traceback" not in response.body
    assert any(record.exc_info for record in caplog.records if record.levelno >= logging.ERROR)


def test_an_upload_that_cannot_reach_the_database_is_503_and_leaves_nothing(demo, monkeypatch):
    from tests.support.content import stored_blobs

    _token, secret = demo.token(demo.alice)
    dav = DavClient("alice", secret)
    blobs = stored_blobs()
    monkeypatch.setattr("files.raw_sql.insert_new_node", _failing(OperationalError("database is locked")))
    response = dav.put("/dav/research/new.txt", b"data")
    assert response.status == 503
    assert response.headers["retry-after"] == "5"
    assert not Node.objects.filter(name="new.txt").exists()
    assert stored_blobs() == blobs


def test_a_tree_change_inside_webdav_that_cannot_reach_the_database_is_503(demo, monkeypatch):
    """DELETE runs in a resource method that WsgiDAV answers itself (``dav.errors.shielded``)."""
    _token, secret = demo.token(demo.alice)
    dav = DavClient("alice", secret)
    monkeypatch.setattr("files.services.delete", _failing(OperationalError("database is locked")))
    response = dav.request("DELETE", "/dav/research/paper.txt")
    assert response.status == 503
    assert demo.node("/research/paper.txt") is not None


def test_the_console_answers_503_with_retry_after(demo, monkeypatch):
    console = Client(raise_request_exception=False)
    console.force_login(demo.admin)
    monkeypatch.setattr(
        "django.contrib.sessions.backends.db.SessionStore.load", _failing(OperationalError("database is locked"))
    )
    response = console.get("/people/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert b"Service unavailable" in response.content and b"database is locked" not in response.content


def test_any_other_error_is_still_a_plain_500(demo, monkeypatch):
    console = Client(raise_request_exception=False)
    console.force_login(demo.admin)
    monkeypatch.setattr("django.contrib.sessions.backends.db.SessionStore.load", _failing(RuntimeError("a bug")))
    response = console.get("/people/")
    assert response.status_code == 500
    assert "Retry-After" not in response
    assert b"a bug" not in response.content
