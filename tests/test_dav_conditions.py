"""WebDAV conditional writes hold where the write takes place: ``If-Match`` and ``If-None-Match`` are asked
again against the file as it is then, not only before the body was read (another write may land meanwhile)."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable

import pytest

from files import services
from tests.conftest import content_of, stored_blobs
from tests.dav_support import DavClient

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


def test_a_refused_upload_is_answered_without_an_error_in_the_log(demo, dav, settings, caplog):
    etag = dav.request("HEAD", PATH).headers["etag"]
    assert (
        _put_while(dav, PATH, b"later", lambda: _write(demo, "/research", "paper.txt", b"first"), if_match=etag) == 412
    )
    settings.MAX_UPLOAD_SIZE = 4
    # Without a Content-Length, the limit is found while the body is stored.
    assert dav.put("/dav/research/big.bin", b"too large", content_length="").status == 413
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []


def test_a_server_error_while_storing_an_upload_is_still_logged(dav, monkeypatch, caplog):
    from files import blobs

    def broken(*args: object) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(blobs, "_copy", broken)
    assert dav.put("/dav/research/new.txt", b"data").status == 500
    assert any(record.levelno >= logging.ERROR for record in caplog.records)
