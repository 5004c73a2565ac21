"""No upload commits a body that did not arrive whole, by any protocol: a body shorter than its Content-Length, a
chunked body that stops before its last chunk, a connection that breaks mid-body. The request is refused (400),
the file keeps its bytes, entity tag, size and modification time, a new file is not created, and no blob is
left in the storage. Bytes past the declared length are never stored.

In-process, with the ``wsgi.input`` that WSGI servers hand over in those cases (``tests.upload_support``); the
tests marked ``system`` do the same against gunicorn over a socket.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from files import paths
from tests.api_helpers import API
from tests.conftest import content_of, stored_blobs
from tests.dav_support import DavClient, basic
from tests.servers import gunicorn, manage, request, scratch_env
from tests.upload_support import (
    ABORTED_CHUNKED_BODIES,
    ShortInput,
    cheroot_chunked_input,
    gunicorn_chunked_input,
    hang_up,
    status_of,
)

ALPHA = "/common/projects/alpha"
EXISTING = f"{ALPHA}/data.csv"
NEW = f"{ALPHA}/new.csv"


def file_state(public_path: str) -> tuple[bytes, str, int, object] | None:
    """A file's bytes, entity tag, size and modification time; None when there is no such file."""
    node = paths.resolve_path(public_path)
    if node is None:
        return None
    return content_of(node), node.etag, node.size, node.mtime


@dataclass
class Upload:
    """One upload path, over WebDAV or the REST API, to an existing file or a new one."""

    protocol: str
    target: str  # the file's public path
    how: str = ""  # REST: "content" (PUT …/content) or "child" (PUT …/children/{name})

    def __str__(self) -> str:
        existing = "existing" if self.target == EXISTING else "new"
        return f"{self.protocol}{'-' + self.how if self.how else ''}-{existing}"

    def put(self, demo, client, body: object, content_length: str, **environ: object) -> int:
        if self.protocol == "dav":
            dav = DavClient("alice", demo.token(demo.alice)[1])
            headers = {key[5:].lower(): value for key, value in environ.items() if key.startswith("HTTP_")}
            extra = {key: value for key, value in environ.items() if not key.startswith("HTTP_")}
            status: int = dav.request(
                "PUT",
                "/dav" + self.target,
                b"",
                wsgi_input=body,
                environ_extra=extra,
                content_length=content_length,
                **headers,
            ).status
            return status
        if self.how == "content":
            url = f"{API}/nodes/{demo.node(self.target).uuid}/content"
        else:
            folder, name = self.target.rsplit("/", 1)
            url = f"{API}/nodes/{demo.node(folder).uuid}/children/{name}"
        response = client.generic(
            "PUT",
            url,
            CONTENT_LENGTH=content_length,
            CONTENT_TYPE="application/octet-stream",
            HTTP_AUTHORIZATION=f"Bearer {demo.token(demo.alice)[1]}",
            **{"wsgi.input": body},
            **environ,
        )
        return int(response.status_code)


UPLOADS = [
    Upload("dav", EXISTING),
    Upload("dav", NEW),
    Upload("rest", EXISTING, "content"),
    Upload("rest", EXISTING, "child"),
    Upload("rest", NEW, "child"),
]

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


# Against a real server: gunicorn as `make serve` runs it, one request at a time, so that the answer to a later
# request shows that the server is done with a connection a client hung up on.


@dataclass
class Served:
    port: int
    secret: str
    data_dir: Path

    def blobs(self) -> set[Path]:
        return {path for path in (self.data_dir / "files" / "blobs").rglob("*") if path.is_file()}

    def node(self, public_path: str) -> dict[str, object] | None:
        response = request(self.port, "GET", f"{API}/nodes?path={public_path}", Authorization=f"Bearer {self.secret}")
        return json.loads(response.data) if response.status == 200 else None  # type: ignore[attr-defined]

    def state(self, public_path: str) -> tuple[bytes, dict[str, object]] | None:
        node = self.node(public_path)
        if node is None:
            return None
        url = f"{API}/nodes/{node['uuid']}/content"
        content = request(self.port, "GET", url, Authorization=f"Bearer {self.secret}")
        return content.data, node  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data_dir = tmp_path_factory.mktemp("upload-bodies")
    env = scratch_env(data_dir, GUNICORN_THREADS="1")
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "seed_demo")
    secret = manage(env, "user_token", "-u", "alice", "-e", "1d", "-q").strip()
    with gunicorn(env, count=1) as (port,):
        yield Served(port, secret, data_dir)


def _put_head(served: Served, upload: Upload, framing: str) -> str:
    if upload.protocol == "dav":
        url, auth = "/dav" + upload.target, basic("alice", served.secret)
    else:
        auth = f"Bearer {served.secret}"
        folder, name = upload.target.rsplit("/", 1)
        node = served.node(upload.target if upload.how == "content" else folder)
        assert node is not None
        url = f"{API}/nodes/{node['uuid']}/" + ("content" if upload.how == "content" else f"children/{name}")
    return f"PUT {url} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\n{framing}"


# Headers and what follows them: 300,000 of 1,000,000 bytes declared; chunked bodies cut before their end.
CUT_BODIES = {
    "short": ("Content-Length: 1000000", os.urandom(300_000)),
    **{
        f"chunked-{cut}": ("Transfer-Encoding: chunked", b"493e0\r\n" + os.urandom(300_000) + b"\r\n" + raw)
        for cut, raw in ABORTED_CHUNKED_BODIES.items()
    },
}


@pytest.mark.system
@pytest.mark.parametrize("how", ["half-closed", "closed", "reset"])
@pytest.mark.parametrize("cut", CUT_BODIES.values(), ids=CUT_BODIES.keys())
@pytest.mark.parametrize("upload", UPLOADS, ids=str)
def test_a_client_that_hangs_up_mid_body_changes_nothing_on_a_real_server(served, upload, cut, how):
    framing, body = cut
    before, blobs = served.state(upload.target), served.blobs()
    answer = hang_up(served.port, _put_head(served, upload, framing), body, how=how)
    if how == "half-closed":
        assert status_of(answer) == 400
    assert served.state(upload.target) == before  # answered after the server is done with the cut request
    assert served.blobs() == blobs
