"""Shared bodies of the tests over two server processes with one database: two gunicorn processes on SQLite
(``tests/e2e/test_dav_processes.py``) and two instances on PostgreSQL and Redis (``tests/e2e/test_scale_out.py``).
Each takes the two ports and alice's credentials."""

from __future__ import annotations

import json
import os

from tests.support.dav_support import LOCK_BODY, basic
from tests.support.servers import SlowUpload, request


def check_a_lock_granted_elsewhere_while_a_body_arrives_refuses_the_write(first: int, second: int, auth: str) -> None:
    """WsgiDAV keeps LOCKs off a URL being written only within its own process: the write itself asks again."""
    path = "/dav/common/welcome.txt"
    before = request(second, "GET", path, Authorization=auth).data  # type: ignore[attr-defined]
    # Larger than the sockets hold: by the time it is sent, the server has checked the locks and is reading it.
    upload = SlowUpload(first, path, os.urandom(64 * 1024 * 1024), Authorization=auth)
    locked = request(second, "LOCK", path, LOCK_BODY, Authorization=auth, Depth="0")
    assert locked.status == 200
    assert upload.finish().status == 423
    assert request(second, "GET", path, Authorization=auth).data == before  # type: ignore[attr-defined]
    unlock = request(second, "UNLOCK", path, Authorization=auth, Lock_Token=locked.headers["Lock-Token"])
    assert unlock.status == 204


def check_a_folder_locked_elsewhere_while_a_small_file_arrives_refuses_it(first: int, second: int, auth: str) -> None:
    folder = "/dav/common/projects/beta"
    upload = SlowUpload(first, f"{folder}/late.txt", b"x" * 1000, Authorization=auth)
    locked = request(second, "LOCK", folder, LOCK_BODY, Authorization=auth, Depth="infinity")
    assert locked.status == 200
    assert upload.finish().status == 423
    assert request(second, "GET", f"{folder}/late.txt", Authorization=auth).status == 404
    unlock = request(second, "UNLOCK", folder, Authorization=auth, Lock_Token=locked.headers["Lock-Token"])
    assert unlock.status == 204


def check_a_webdav_lock_holds_against_the_api_of_another_process(first: int, second: int, secret: str) -> None:
    path = "/common/projects/alpha/readme.txt"
    bearer = f"Bearer {secret}"
    found = request(second, "GET", f"/api/v1/nodes?path={path}", Authorization=bearer)
    node = json.loads(found.data)["uuid"]  # type: ignore[attr-defined]
    locked = request(first, "LOCK", f"/dav{path}", LOCK_BODY, Authorization=basic("alice", secret), Depth="0")
    assert locked.status == 200
    refused = request(second, "PUT", f"/api/v1/nodes/{node}/content", b"script", Authorization=bearer)
    assert refused.status == 423
    assert "WebDAV lock" in json.loads(refused.data)["detail"]  # type: ignore[attr-defined]
    token = locked.headers["Lock-Token"]
    assert request(first, "UNLOCK", f"/dav{path}", Authorization=basic("alice", secret), Lock_Token=token).status == 204
    assert request(second, "PUT", f"/api/v1/nodes/{node}/content", b"script", Authorization=bearer).status == 200
