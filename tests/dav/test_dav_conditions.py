"""WebDAV conditional writes hold where the write takes place: ``If-Match``, ``If-None-Match``,
``If-Unmodified-Since`` and the entity tags of an ``If:`` header are asked again against the file as it is then,
not only before the body was read (another write may land meanwhile)."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from django.utils.http import http_date

from files import services
from files.models import Node
from tests.support.content import content_of, stored_blobs
from tests.support.dav_support import LOCK_BODY, DavClient

PATH = "/dav/research/paper.txt"


class _Meanwhile(io.BytesIO):
    """A request body whose first read lets something else happen first (the upload is past its checks)."""

    def __init__(self, data: bytes, meanwhile: Callable[[], None]) -> None:
        super().__init__(data)
        self._meanwhile: Callable[[], None] | None = meanwhile

    def read(self, size: int | None = -1) -> bytes:
        if self._meanwhile is not None:
            meanwhile, self._meanwhile = self._meanwhile, None
            meanwhile()
        return super().read(size)


def _write(demo, folder: str, name: str, data: bytes) -> None:
    """Another client's write, landing while the request under test is reading its body."""
    services.write_file(parent=demo.node(folder), name=name, stream=io.BytesIO(data))


@pytest.fixture
def dav(demo) -> DavClient:
    _token, secret = demo.token(demo.alice)
    return DavClient("alice", secret)


def _put_while(dav: DavClient, path: str, data: bytes, meanwhile: Callable[[], None], **headers: str) -> int:
    body = _Meanwhile(data, meanwhile)
    return dav.request("PUT", path, b"", content_length=str(len(data)), wsgi_input=body, **headers).status


def test_two_puts_made_for_the_same_version_cannot_both_replace_it(demo, dav):
    etag = dav.request("HEAD", PATH).headers["etag"]

    def other_client() -> None:
        _write(demo, "/research", "paper.txt", b"first")

    before = stored_blobs()
    assert _put_while(dav, PATH, b"second", other_client, if_match=etag) == 412
    node = demo.node("/research/paper.txt")
    assert content_of(node) == b"first"
    assert stored_blobs() == before | {node.blob.removeprefix("blobs/")}  # the refused upload left nothing behind


def test_if_none_match_star_creates_only_even_when_another_client_creates_first(demo, dav):
    path = "/dav/research/new.txt"

    def other_client() -> None:
        _write(demo, "/research", "new.txt", b"first")

    assert _put_while(dav, path, b"second", other_client, if_none_match="*") == 412
    assert content_of(demo.node("/research/new.txt")) == b"first"


def test_if_match_still_replaces_the_version_it_names(demo, dav):
    etag = dav.request("HEAD", PATH).headers["etag"]
    assert dav.put(PATH, b"mine", if_match=etag).status == 204
    assert dav.put(PATH, b"stale", if_match=etag).status == 412
    assert content_of(demo.node("/research/paper.txt")) == b"mine"


@pytest.fixture
def an_old_paper(demo) -> str:
    """The paper, last changed in 2020: its Last-Modified, as a client read it."""
    old = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    Node.objects.filter(pk=demo.node("/research/paper.txt").pk).update(mtime=old)
    return http_date(old.timestamp())


def test_if_unmodified_since_holds_where_the_write_takes_place(demo, dav, an_old_paper):
    assert dav.request("HEAD", PATH).headers["last-modified"] == an_old_paper

    def other_client() -> None:
        _write(demo, "/research", "paper.txt", b"first")  # modified now, after the date the client read

    assert _put_while(dav, PATH, b"second", other_client, if_unmodified_since=an_old_paper) == 412
    assert content_of(demo.node("/research/paper.txt")) == b"first"


def test_if_unmodified_since_still_lets_a_write_through_over_the_version_it_names(demo, dav, an_old_paper):
    assert dav.put(PATH, b"mine", if_unmodified_since=an_old_paper).status == 204
    assert dav.put(PATH, b"stale", if_unmodified_since=an_old_paper).status == 412
    assert dav.put(PATH, b"not a date", if_unmodified_since="yesterday").status == 204  # ignored (RFC 9110)
    assert content_of(demo.node("/research/paper.txt")) == b"not a date"


def test_if_modified_since_is_for_reads_only(demo, dav, an_old_paper):
    """RFC 9110 §13.1.3: a recipient ignores If-Modified-Since on anything but GET and HEAD."""
    future = http_date(datetime(2999, 1, 1, tzinfo=UTC).timestamp())
    assert dav.request("GET", PATH, if_modified_since=future).status == 304
    assert dav.put(PATH, b"mine", if_modified_since=future).status == 204
    assert content_of(demo.node("/research/paper.txt")) == b"mine"


def test_an_if_header_entity_tag_holds_where_the_write_takes_place(demo, dav):
    etag = dav.request("HEAD", PATH).headers["etag"]

    def other_client() -> None:
        _write(demo, "/research", "paper.txt", b"first")

    assert _put_while(dav, PATH, b"second", other_client, **{"if": f"([{etag}])"}) == 412
    assert content_of(demo.node("/research/paper.txt")) == b"first"
    # The tag of the version as it is now lets the write through, before the body and where it is written.
    etag = dav.request("HEAD", PATH).headers["etag"]
    assert dav.put(PATH, b"third", **{"if": f"([{etag}])"}).status == 204
    assert dav.put(PATH, b"stale", **{"if": f"([{etag}])"}).status == 412
    assert dav.put(PATH, b"fourth", **{"if": f"(Not [{etag}])"}).status == 204
    assert content_of(demo.node("/research/paper.txt")) == b"fourth"


def test_an_if_header_with_a_lock_token_and_an_entity_tag_counts_the_token_where_the_write_takes_place(demo, dav):
    locked = dav.request("LOCK", PATH, LOCK_BODY, depth="0")
    assert locked.status == 200
    token = locked.headers["lock-token"]  # <opaquelocktoken:…>
    etag = dav.request("HEAD", PATH).headers["etag"]
    assert dav.put(PATH, b"mine", **{"if": f"({token} [{etag}])"}).status == 204
    etag = dav.request("HEAD", PATH).headers["etag"]

    def other_client() -> None:
        _write(demo, "/research", "paper.txt", b"first")  # past the lock: services do not ask WebDAV's locks

    assert _put_while(dav, PATH, b"second", other_client, **{"if": f"({token} [{etag}])"}) == 412
    assert content_of(demo.node("/research/paper.txt")) == b"first"


def test_a_refused_upload_is_answered_without_an_error_in_the_log(demo, dav, settings, caplog):
    etag = dav.request("HEAD", PATH).headers["etag"]
    assert (
        _put_while(dav, PATH, b"later", lambda: _write(demo, "/research", "paper.txt", b"first"), if_match=etag) == 412
    )
    settings.MAX_UPLOAD_SIZE = 4
    # Without a Content-Length, the limit is found while the body is stored.
    assert dav.put("/dav/research/big.bin", b"too large", content_length="").status == 413
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []


def test_a_server_error_while_storing_an_upload_is_still_logged(dav, settings, caplog):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "tests.support.content.FullDiskStorage"}}
    assert dav.put("/dav/research/new.txt", b"data").status == 500
    assert any(record.levelno >= logging.ERROR for record in caplog.records)
