"""What a PutObject and a HeadObject cost in queries, in process: the token, one lookup of the key with all its
folders (and the grant on the workspace), and the write. A deeper key costs no more."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from files import services
from tests.support.s3_support import environ_of, md5_base64, signed

# No test transaction: the gateway recycles the database connection around each request, as a server's would.
pytestmark = pytest.mark.django_db(transaction=True)


def _call(request: Any, body: bytes = b"") -> tuple[int, bytes]:
    from cellsadmin.wsgi import application

    environ = environ_of(request)
    environ.update({"wsgi.input": io.BytesIO(body), "REMOTE_ADDR": "127.0.0.1", "CONTENT_LENGTH": str(len(body))})
    started: list[str] = []
    result = application(environ, lambda status, headers, exc_info=None: started.append(status))
    try:
        content = b"".join(result)
    finally:
        getattr(result, "close", lambda: None)()
    return int(started[-1].split()[0]), content


def _put(secret: str, key: str, body: bytes) -> tuple[int, list[str]]:
    """The status of a PutObject and the statements it ran."""
    request = signed(
        "PUT",
        f"http://127.0.0.1:8000/io/{key}",
        secret,
        body=body,
        headers={"Content-MD5": md5_base64(body), "X-Amz-Meta-Mtime": "1700000000.5"},
    )
    with CaptureQueriesContext(connection) as queries:
        status, _content = _call(request, body)
    return status, [query["sql"].lstrip().upper() for query in queries.captured_queries]


def _reads(statements: list[str]) -> list[str]:
    """The statements that read rows (not PostgreSQL's advisory lock, which orders a write against LOCKs)."""
    return [sql for sql in statements if sql.startswith("SELECT") and "PG_ADVISORY" not in sql]


@pytest.mark.parametrize("key", ["research/new.bin", "research/a/b/c/d/new.bin"])
def test_a_put_into_existing_folders_reads_the_token_and_the_key_once(demo, key):
    research = demo.node("/research")
    folder = research
    for name in ("a", "b", "c", "d"):
        folder = services.create_folder(parent=folder, name=name)
    _token, secret = demo.token(demo.alice)
    _call(signed("HEAD", "http://127.0.0.1:8000/io/research/", secret))  # the token's first-use write
    status, statements = _put(secret, key, b"x" * 1024)
    assert status == 200
    # the token; the key's folders and file, with the grant on the workspace; then the INSERT (on SQLite alone, on
    # PostgreSQL in a transaction after an advisory lock)
    assert len(_reads(statements)) == 2
    assert [sql.split(" (")[0] for sql in statements if sql.startswith(("INSERT", "UPDATE", "DELETE"))] == [
        'INSERT INTO "FILES_NODE"'
    ]
    with CaptureQueriesContext(connection) as head:
        status, _content = _call(signed("HEAD", f"http://127.0.0.1:8000/io/{key}", secret))
    assert (status, len(head)) == (200, 2)


def test_a_put_into_a_new_folder_creates_it(demo):
    _token, secret = demo.token(demo.alice)
    status, _statements = _put(secret, "research/fresh/deeper/new.bin", b"z")
    assert status == 200
    assert demo.node("/research/fresh/deeper/new.bin").size == 1
