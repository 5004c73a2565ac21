"""What each request of rclone's upload cycle costs on the production stack, counted at the connections: MKCOL on
the existing folder (405), PUT of a new file, PROPFIND Depth 0 of it, and a PUT over an existing file. Every
round trip to PostgreSQL is counted (libpq's trace: BEGIN and COMMIT included, no SAVEPOINT, the hot statements
prepared rather than parsed again, a new file's lock and INSERT sent together) and none may go to Redis.
``tests/dav/test_dav_queries.py`` counts the same requests' statements on either database, inside a test's
transaction."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

from tests.dav.test_dav_queries import RCLONE_PROPFIND
from tests.support.dav_support import basic
from tests.support.round_trips import RoundTrips, database_round_trips, redis_round_trips
from tests.support.wsgi import wsgi_request

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql" or not settings.REDIS_URL,
        reason="runs on PostgreSQL and Redis (DATABASE_URL=postgres://… REDIS_URL=redis://…)",
    ),
    # Real transactions (BEGIN and COMMIT, not a test's savepoints), and the application's own request cycle with
    # its per-request connection housekeeping.
    pytest.mark.django_db(transaction=True),
]


class Uploader:
    """An rclone-like client that has run a few cycles (and one replacement) already: its token's throttled
    last-use write is done and the connection has prepared the statements of each request."""

    def __init__(self, secret: str) -> None:
        self.headers = {"Authorization": basic("alice", secret)}
        self.files = 0

    def send(self, method: str, path: str, body: bytes = b"", **headers: str) -> int:
        return wsgi_request(method, path, {**self.headers, **headers}, body).status

    def cycle(self) -> str:
        """MKCOL, PUT, PROPFIND as rclone sends them for one file: the new file's path."""
        self.files += 1
        path = f"/dav/common/up/file-{self.files}.bin"
        assert self.send("MKCOL", "/dav/common/up") == 405
        assert self.send("PUT", path, b"x" * 1024) == 201
        assert self.send("PROPFIND", path, RCLONE_PROPFIND, Depth="0") == 207
        return path

    def counted(self, method: str, path: str, body: bytes = b"", **headers: str) -> tuple[int, RoundTrips]:
        with database_round_trips(connection) as database, redis_round_trips() as cache:
            status = self.send(method, path, body, **headers)
        assert cache.count == 0, cache.sent  # the address lockout is read with the token's row
        assert database.parsed == 0, database.sent  # every hot statement was prepared by the cycles before
        return status, database


@pytest.fixture
def uploader(demo):
    _token, secret = demo.token(demo.alice)
    client = Uploader(secret)
    assert client.send("MKCOL", "/dav/common/up") == 201
    for _ in range(3):
        client.cycle()
    assert client.send("PUT", "/dav/common/up/file-1.bin", b"z" * 1024) == 204  # a replacement's statements too
    return client


def _kinds(found: RoundTrips) -> list[str]:
    return [tag.split()[0] for tag in found.completed]


def test_mkcol_on_an_existing_folder_is_two_round_trips(uploader):
    status, found = uploader.counted("MKCOL", "/dav/common/up")
    # the token (with the address lockout); the folder, its parent and the grant on their workspace
    assert status == 405
    assert (found.count, _kinds(found)) == (2, ["SELECT", "SELECT"]), found.sent
    assert all(sent == "Sync" for sent in found.sent), found.sent  # prepared statements, not query text


def test_put_of_a_new_file_is_three_round_trips(uploader):
    status, found = uploader.counted("PUT", "/dav/common/up/new.bin", b"x" * 1024)
    # the token; the file and its folder with the grant; then, sent together as one transaction of their own (no
    # BEGIN, no COMMIT, no savepoint), the advisory lock that orders the write against LOCK requests and the
    # INSERT that reads the locks itself
    assert status == 201
    assert _kinds(found) == ["SELECT", "SELECT", "SELECT", "INSERT"], found.completed
    assert found.sent == ["Sync"] * 3, found.sent  # prepared, and three round trips


def test_rclones_propfind_after_an_upload_is_two_round_trips(uploader):
    path = uploader.cycle()
    status, found = uploader.counted("PROPFIND", path, RCLONE_PROPFIND, Depth="0")
    # the token; the file with the grant (live properties only: no dead properties, no locks)
    assert status == 207
    assert (found.count, _kinds(found)) == (2, ["SELECT", "SELECT"]), found.sent


def test_a_put_over_an_existing_file_is_one_transaction_without_savepoints(uploader):
    path = uploader.cycle()
    status, found = uploader.counted("PUT", path, b"y" * 1024)
    # the token; the file and its folder; then one transaction: the file's row locked, the advisory lock, the
    # locks over the file, the UPDATE, the commit
    assert status == 204
    assert _kinds(found) == ["SELECT", "SELECT", "BEGIN", "SELECT", "SELECT", "SELECT", "UPDATE", "COMMIT"], found.sent
    assert found.count == 8, found.sent
