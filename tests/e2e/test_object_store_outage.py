"""The object store dies in the middle of a large WebDAV upload, on a real server (gunicorn as ``make serve`` runs
it, file contents in SeaweedFS): the client is answered 503 with Retry-After within seconds, the file keeps
its previous content, the store shows nothing of the upload once it is back, and ``blobs_prune`` removes the
unfinished multipart upload whose abort could not reach it."""

from __future__ import annotations

import http.client
import socket
import threading
import time

import pytest

from tests.support.dav_support import basic
from tests.support.object_store import SeaweedFS, seaweedfs, weed_program
from tests.support.servers import gunicorn, manage, request, scratch_env

MiB = 1024 * 1024
#: The upload's size, and how much of it is sent before the store is killed: several parts have gone up by then.
UPLOAD = 512 * MiB
KILL_AFTER = 40 * MiB
#: The longest the client waits for an answer: far longer than the retries and timeouts of the store's client.
CLIENT_TIMEOUT = 60


@pytest.fixture
def store(tmp_path):
    """A SeaweedFS of this test's own: it is killed."""
    with seaweedfs(weed_program(), tmp_path / "seaweedfs") as started:
        yield started


class StreamingPut:
    """A PUT whose body is sent from a thread of its own while the answer is read, as curl and rclone do: a
    server may answer before the body is complete. ``on_sent`` is called once ``threshold`` bytes are out."""

    def __init__(self, port: int, path: str, authorization: str, size: int, threshold: int, on_sent) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=CLIENT_TIMEOUT)
        head = (
            f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {authorization}\r\n"
            f"Content-Length: {size}\r\n\r\n"
        )
        self.sock.sendall(head.encode())
        self.sent = 0
        self.reached = threading.Event()

        def send() -> None:
            chunk = bytes(range(256)) * 4096  # 1 MiB
            try:
                while self.sent < size:
                    self.sock.sendall(chunk)
                    self.sent += len(chunk)
                    if self.sent == threshold:
                        on_sent()
                        self.reached.set()
            except OSError:
                pass  # the server closed the connection: its answer is what counts

        self.sender = threading.Thread(target=send, daemon=True)
        self.sender.start()

    def answer(self) -> http.client.HTTPResponse:
        response = http.client.HTTPResponse(self.sock)
        response.begin()
        response.read()
        return response

    def close(self) -> None:
        self.sock.close()
        self.sender.join(timeout=CLIENT_TIMEOUT)


def test_killing_the_object_store_during_an_upload_is_a_prompt_503_and_leaves_the_file_as_it_was(
    store: SeaweedFS, tmp_path
):
    env = scratch_env(tmp_path / "data", **store.env())
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "seed_demo")
    secret = manage(env, "user_token", "-u", "alice", "-e", "1d", "-q").strip()
    auth = basic("alice", secret)
    path = "/dav/common/welcome.txt"
    with gunicorn(env, count=1) as (port,):
        before = request(port, "GET", path, Authorization=auth)
        assert before.status == 200
        objects = store.keys()
        killed_at: list[float] = []

        def kill() -> None:
            store.stop(kill=True)
            killed_at.append(time.monotonic())

        upload = StreamingPut(port, path, auth, UPLOAD, KILL_AFTER, kill)
        try:
            answer = upload.answer()
            answered_at = time.monotonic()
        finally:
            upload.close()
        assert upload.reached.is_set()
        assert answer.status == 503
        assert answer.getheader("Retry-After") == "5"
        assert answered_at - killed_at[0] < 30  # the store's client gave up within its retries, no hang

        store.start()  # the same ports and data
        after = request(port, "GET", path, Authorization=auth)
        assert (after.status, after.data) == (200, before.data)  # type: ignore[attr-defined]
        assert after.getheader("ETag") == before.getheader("ETag")
        assert store.keys() == objects  # no object of the upload, whole or half

    assert len(store.incomplete_uploads()) == 1  # its abort could not reach the store
    out = manage(env, "blobs_prune", "--grace", "0")
    assert out == "0 unreferenced blob(s) and 1 incomplete upload(s) removed.\n"
    assert store.incomplete_uploads() == []
    assert store.keys() == objects
