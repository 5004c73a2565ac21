"""A database, Redis or the object store that cannot answer now: 503 with Retry-After on the console, the REST API
and WebDAV, never a 500 or a traceback, and nothing written."""

from __future__ import annotations

import logging

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client
from redis.exceptions import ConnectionError as RedisConnectionError

from files.models import Node
from lib.unavailable import MESSAGE
from tests.support.api_helpers import API
from tests.support.dav_support import DavClient
from tests.support.servers import free_port

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
        "detail": "The service cannot reach its database, cache or file store just now; try again in a few seconds."
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


@pytest.fixture
def unreachable_store(demo, settings):
    """File contents in an object store that refuses connections (nothing listens on its port), once the demo's
    files are stored where the pass keeps them."""
    storage = {
        "BACKEND": "files.object_storage.ObjectStorage",
        "OPTIONS": {
            "endpoint_url": f"http://127.0.0.1:{free_port()}",
            "bucket_name": "gone",
            "access_key": "key",
            "secret_key": "secret",
            "region_name": "us-east-1",
        },
    }
    settings.STORAGES = {**settings.STORAGES, "default": storage}


def _store_outage_answered(status: int, headers: dict[str, str], caplog) -> None:
    assert status == 503
    assert headers["retry-after"] == "5"
    assert any(record.exc_info for record in caplog.records if record.levelno >= logging.ERROR)


def test_an_api_download_from_an_unreachable_store_is_503(demo, unreachable_store, alice, client, caplog):
    readme = demo.node("/common/projects/alpha/readme.txt")
    response = client.get(f"{API}/nodes/{readme.uuid}/content", **alice)
    _store_outage_answered(response.status_code, {"retry-after": response["Retry-After"]}, caplog)
    assert response.json() == {"detail": MESSAGE}


def test_an_api_upload_to_an_unreachable_store_is_503_and_changes_nothing(
    demo, unreachable_store, alice, client, caplog
):
    readme = demo.node("/common/projects/alpha/readme.txt")
    response = client.put(
        f"{API}/nodes/{readme.uuid}/content", b"new", content_type="application/octet-stream", **alice
    )
    _store_outage_answered(response.status_code, {"retry-after": response["Retry-After"]}, caplog)
    assert demo.node("/common/projects/alpha/readme.txt").etag == readme.etag


def test_a_webdav_download_from_an_unreachable_store_is_503(demo, unreachable_store, caplog):
    _token, secret = demo.token(demo.alice)
    response = DavClient("alice", secret).request("GET", "/dav/common/welcome.txt")
    _store_outage_answered(response.status, response.headers, caplog)
    assert response.body == b"503 Service Unavailable\n"


def test_a_webdav_upload_to_an_unreachable_store_is_503_and_changes_nothing(demo, unreachable_store, caplog):
    _token, secret = demo.token(demo.alice)
    welcome = demo.node("/common/welcome.txt")
    response = DavClient("alice", secret).put("/dav/common/welcome.txt", b"new")
    _store_outage_answered(response.status, response.headers, caplog)
    assert demo.node("/common/welcome.txt").etag == welcome.etag


def test_a_delete_while_the_store_is_unreachable_is_done_and_leaves_the_blob_to_blobs_prune(
    demo, unreachable_store, alice, client, caplog, django_capture_on_commit_callbacks
):
    readme = demo.node("/common/projects/alpha/readme.txt")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(f"{API}/nodes/{readme.uuid}", **alice)
    assert response.status_code == 204
    assert not Node.objects.filter(pk=readme.pk).exists()
    assert f"Could not remove the blob {readme.blob} now; blobs_prune will." in caplog.text


def test_a_store_that_refuses_the_credentials_is_a_500_not_an_outage(s3_blobs, demo, object_store, settings, alice):
    storage = object_store.storage(s3_blobs)
    storage["OPTIONS"]["secret_key"] = "wrong"
    settings.STORAGES = {**settings.STORAGES, "default": storage}
    readme = demo.node("/common/projects/alpha/readme.txt")
    response = Client(raise_request_exception=False).get(f"{API}/nodes/{readme.uuid}/content", **alice)
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error."}
