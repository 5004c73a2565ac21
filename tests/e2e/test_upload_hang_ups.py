"""A client that hangs up in the middle of an upload's body changes nothing on a real server: gunicorn as
``make serve`` runs it, one request at a time, so that the answer to a later request shows that the server is
done with a connection a client hung up on. (In-process, the same bodies: ``tests/files/test_upload_bodies.py``.)
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.api_helpers import API
from tests.support.dav_support import basic
from tests.support.object_store import served_blobs
from tests.support.servers import gunicorn, manage, request, scratch_env
from tests.support.upload_support import ABORTED_CHUNKED_BODIES, UPLOADS, Upload, hang_up, status_of


@dataclass
class Served:
    port: int
    secret: str
    data_dir: Path

    def blobs(self) -> set[str]:
        return served_blobs(self.data_dir)

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
