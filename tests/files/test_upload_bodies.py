"""No upload commits a body that did not arrive whole, by any protocol: a body shorter than its Content-Length, a
chunked body that stops before its last chunk, a connection that breaks mid-body. The request is refused (400),
the file keeps its bytes, entity tag, size and modification time, a new file is not created, and no blob is
left in the storage. Bytes past the declared length are never stored.

In-process, with the ``wsgi.input`` that WSGI servers hand over in those cases (``tests.support.upload_support``);
the same against gunicorn over a socket: ``tests/e2e/test_upload_hang_ups.py``.
"""

from __future__ import annotations

import logging

import pytest

from files import paths
from tests.support.content import content_of, stored_blobs
from tests.support.upload_support import (
    ABORTED_CHUNKED_BODIES,
    EXISTING,
    UPLOADS,
    ShortInput,
    Upload,
    cheroot_chunked_input,
    gunicorn_chunked_input,
)


def file_state(public_path: str) -> tuple[bytes, str, int, object] | None:
    """A file's bytes, entity tag, size and modification time; None when there is no such file."""
    node = paths.resolve_path(public_path)
    if node is None:
        return None
    return content_of(node), node.etag, node.size, node.mtime


# What a server hands over when the body does not arrive whole: (wsgi.input, Content-Length, more environ).
CHUNKED = {"wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"}
BROKEN_BODIES = {
    "shorter-than-content-length": lambda: (ShortInput(b"y" * 3000), "10000", {}),
    "connection-reset": lambda: (ShortInput(b"y" * 3000, ConnectionResetError("reset by peer")), "10000", {}),
    **{
        f"gunicorn-chunked-{cut}": (lambda raw=raw: (gunicorn_chunked_input(raw), "", CHUNKED))
        for cut, raw in ABORTED_CHUNKED_BODIES.items()
    },
    # cheroot takes a body for whole once its last chunk is there (it reads no trailers): all its data is.
    **{
        f"cheroot-chunked-{cut}": (lambda raw=raw: (cheroot_chunked_input(raw), "", CHUNKED))
        for cut, raw in ABORTED_CHUNKED_BODIES.items()
        if cut != "before-the-end"
    },
}


@pytest.mark.parametrize("body", BROKEN_BODIES.values(), ids=BROKEN_BODIES.keys())
@pytest.mark.parametrize("upload", UPLOADS, ids=str)
def test_an_upload_whose_body_did_not_arrive_whole_is_refused_and_changes_nothing(demo, client, upload, body):
    before, blobs = file_state(upload.target), stored_blobs()
    wsgi_input, content_length, environ = body()
    assert upload.put(demo, client, wsgi_input, content_length, **environ) == 400
    assert file_state(upload.target) == before
    assert stored_blobs() == blobs


@pytest.mark.parametrize("upload", UPLOADS, ids=str)
def test_an_aborted_upload_logs_no_error(demo, client, upload, caplog):
    wsgi_input = gunicorn_chunked_input(ABORTED_CHUNKED_BODIES["before-the-end"])
    upload.put(demo, client, wsgi_input, "", **CHUNKED)
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []


@pytest.mark.parametrize("upload", UPLOADS, ids=str)
def test_bytes_past_the_content_length_are_not_stored(demo, client, upload):
    status = upload.put(demo, client, ShortInput(b"0123456789" + b"NEXT REQUEST"), "10")
    assert status in {200, 201, 204}
    assert content_of(demo.node(upload.target)) == b"0123456789"


@pytest.mark.parametrize("upload", UPLOADS, ids=str)
def test_a_chunked_body_the_server_hands_over_undecoded_is_refused(demo, client, upload):
    """Django's runserver neither decodes a chunked body nor marks where it ends: it hands over nothing."""
    before = file_state(upload.target)
    status = upload.put(demo, client, ShortInput(b""), "", HTTP_TRANSFER_ENCODING="chunked")
    assert status == 411
    assert file_state(upload.target) == before


@pytest.mark.parametrize("content_length", ["ten", "-3"])
def test_a_webdav_put_whose_content_length_is_no_length_is_refused(demo, client, content_length):
    before = file_state(EXISTING)
    assert Upload("dav", EXISTING).put(demo, client, ShortInput(b"0123456789"), content_length) == 400
    assert file_state(EXISTING) == before
