"""Two instances as one: two gunicorn instances, each with its own DATA_DIR, sharing one PostgreSQL database, one
Redis and one object store (SeaweedFS), their secrets from the environment, as two machines behind a load balancer
would run (README, Several machines).

Tokens made on either work on both, whichever way they were made; a file written through one reads through the
other; deletion, rotation, WebDAV locks and the failed-authentication throttle hold across both at once. Requests
name their client address with X-Forwarded-For (the instances trust the loopback as their proxy), so that the
throttle tests lock out addresses of their own."""

from __future__ import annotations

import json
import os
import re
import secrets
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.dav_support import LOCK_BODY, basic
from tests.support.object_store import SeaweedFS
from tests.support.servers import gunicorn, manage, reachable, request, scratch_env, scratch_postgres
from tests.support.two_processes import (
    check_a_folder_locked_elsewhere_while_a_small_file_arrives_refuses_it,
    check_a_lock_granted_elsewhere_while_a_body_arrives_refuses_the_write,
    check_a_webdav_lock_holds_against_the_api_of_another_process,
)

pytestmark = pytest.mark.system

FAILURE_LIMIT = 4


@dataclass
class Cluster:
    first: int
    second: int
    #: Each instance's environment: the shared one, and its own DATA_DIR.
    envs: tuple[dict[str, str], dict[str, str]]

    def token(self, *args: str, on: int = 0) -> tuple[str, str]:
        """A new token of alice's, made with the command line of instance ``on``: (plain text, uuid)."""
        data = json.loads(manage(self.envs[on], "user_token", "-u", "alice", "-e", "1d", "--json", *args))
        return data["token"], data["uuid"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, object_store: SeaweedFS) -> Iterator[Cluster]:
    if not (reachable(5432) and reachable(6379)):
        message = "needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379"
        if os.environ.get("REQUIRE_SYSTEM_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    with scratch_postgres() as database_url:
        # What every instance shares: the README's environment for several machines.
        shared = {
            "DATABASE_URL": database_url,
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "CACHE_KEY_PREFIX": f"scale-out-{uuid.uuid4().hex[:8]}",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "TOKEN_PEPPERS": "1:" + secrets.token_urlsafe(32),
            "TRUSTED_PROXIES": "127.0.0.1",
            "AUTH_FAILURE_LIMIT": str(FAILURE_LIMIT),
            "AUTH_FAILURE_WINDOW": "3600",
            # One object store for file contents (BLOB_S3_*).
            **object_store.env(),
        }
        root = tmp_path_factory.mktemp("cluster")
        envs = (scratch_env(root / "a", **shared), scratch_env(root / "b", **shared))
        manage(envs[0], "migrate", "--noinput", "-v0")
        manage(envs[0], "seed_demo")
        with gunicorn(envs[0], each=[{"DATA_DIR": env["DATA_DIR"]} for env in envs]) as (first, second):
            yield Cluster(first, second, envs)


def console_session(port: int, login: str, password: str) -> dict[str, str]:
    """Log in to the console; the headers that carry the session and CSRF token on later requests."""
    page = request(port, "GET", "/login/")
    csrf = re.search(r"csrftoken=([^;]+)", page.headers["Set-Cookie"]).group(1)
    form = urllib.parse.urlencode({"username": login, "password": password, "csrfmiddlewaretoken": csrf}).encode()
    response = request(
        port, "POST", "/login/", form, Content_Type="application/x-www-form-urlencoded", Cookie=f"csrftoken={csrf}"
    )
    assert response.status == 302, response.status
    cookies = "; ".join(response.headers.get_all("Set-Cookie") or [])
    session = re.search(r"sessionid=([^;]+)", cookies).group(1)
    return {"Cookie": f"csrftoken={csrf}; sessionid={session}", "X_CSRFToken": csrf}


def revealed_token(response) -> str:
    """The plain token the console shows once, after creating or rotating one."""
    match = re.search(r'id="new-token"[^>]*value="(cpat_[^"]+)"', response.data.decode())
    assert match, response.data.decode()[:2000]
    return match[1]


def me(port: int, secret: str, address: str = "127.0.0.1"):
    return request(port, "GET", "/api/v1/me", Authorization=f"Bearer {secret}", X_Forwarded_For=address)


def test_no_instance_generates_a_secret_of_its_own(cluster):
    for env in cluster.envs:
        assert not (Path(env["DATA_DIR"]) / "secret_key").exists()
        assert not (Path(env["DATA_DIR"]) / "token_pepper").exists()


def test_a_token_created_in_the_console_of_one_instance_works_on_the_other(cluster):
    admin = console_session(cluster.first, "admin", "two-proc-pass")
    form = urllib.parse.urlencode({"label": "made on A", "expiration_model": "hard", "duration": "1", "unit": "d"})
    created = request(
        cluster.first,
        "POST",
        "/people/alice/tokens/new/",
        form.encode(),
        Content_Type="application/x-www-form-urlencoded",
        HX_Request="true",
        **admin,
    )
    assert created.status == 200
    raw = revealed_token(created)
    answer = me(cluster.second, raw)
    assert answer.status == 200
    assert json.loads(answer.data)["token"]["label"] == "made on A"
    assert request(cluster.second, "PROPFIND", "/dav/", Authorization=basic("alice", raw), Depth="0").status == 207


def test_a_token_created_with_the_command_line_of_one_instance_works_on_the_other(cluster):
    raw, _ = cluster.token(on=0)
    assert json.loads(me(cluster.second, raw).data)["login"] == "alice"
    assert request(cluster.second, "PROPFIND", "/dav/", Authorization=basic("alice", raw), Depth="0").status == 207


def test_a_console_session_opened_on_one_instance_holds_on_the_other(cluster):
    admin = console_session(cluster.first, "admin", "two-proc-pass")
    page = request(cluster.second, "GET", "/people/", Cookie=admin["Cookie"])
    assert page.status == 200
    assert b"alice" in page.data  # type: ignore[attr-defined]


def test_a_token_deleted_through_one_instance_is_refused_by_the_other(cluster):
    raw, token_uuid = cluster.token()
    auth = basic("alice", raw)
    assert request(cluster.second, "PROPFIND", "/dav/", Authorization=auth, Depth="0").status == 207
    admin = console_session(cluster.first, "admin", "two-proc-pass")
    deleted = request(cluster.first, "POST", f"/people/alice/tokens/{token_uuid}/delete/", HX_Request="true", **admin)
    assert deleted.status == 200
    assert request(cluster.second, "PROPFIND", "/dav/", Authorization=auth, Depth="0").status == 401
    assert me(cluster.second, raw).status == 401


def test_a_rotation_on_one_instance_stops_the_old_secret_on_the_other(cluster):
    old, token_uuid = cluster.token(on=1)
    assert me(cluster.first, old).status == 200
    admin = console_session(cluster.second, "admin", "two-proc-pass")
    rotated = request(cluster.second, "POST", f"/people/alice/tokens/{token_uuid}/rotate/", HX_Request="true", **admin)
    assert rotated.status == 200
    new = revealed_token(rotated)
    assert me(cluster.first, old).status == 401
    assert me(cluster.first, new).status == 200


def test_a_lock_taken_through_one_instance_blocks_a_put_through_the_other(cluster):
    raw, _ = cluster.token()
    auth = basic("alice", raw)
    path = "/dav/common/projects/beta/notes.md"
    locked = request(cluster.first, "LOCK", path, LOCK_BODY, Authorization=auth, Depth="0")
    assert locked.status == 200
    lock_token = locked.headers["Lock-Token"]
    assert request(cluster.second, "PUT", path, b"conflicting", Authorization=auth).status == 423
    assert request(cluster.second, "UNLOCK", path, Authorization=auth, Lock_Token=lock_token).status == 204
    assert request(cluster.first, "PUT", path, b"after the lock", Authorization=auth).status == 204


def test_a_lock_granted_by_one_instance_while_a_body_arrives_at_the_other_refuses_the_write(cluster):
    raw, _ = cluster.token()
    check_a_lock_granted_elsewhere_while_a_body_arrives_refuses_the_write(
        cluster.first, cluster.second, basic("alice", raw)
    )


def test_a_folder_locked_through_one_instance_while_a_file_arrives_at_the_other_refuses_it(cluster):
    raw, _ = cluster.token()
    check_a_folder_locked_elsewhere_while_a_small_file_arrives_refuses_it(
        cluster.first, cluster.second, basic("alice", raw)
    )


def test_a_webdav_lock_taken_through_one_instance_holds_against_the_api_of_the_other(cluster):
    raw, _ = cluster.token()
    check_a_webdav_lock_holds_against_the_api_of_another_process(cluster.first, cluster.second, raw)


def test_password_failures_on_both_instances_lock_the_address_out_of_both(cluster):
    raw, _ = cluster.token()
    wrong = basic("alice", "not-the-password")
    attacker = "203.0.113.10"
    # Each instance sees two failures; together they reach the limit.
    for port in (cluster.first, cluster.second) * (FAILURE_LIMIT // 2):
        refused = request(port, "PROPFIND", "/dav/", Authorization=wrong, Depth="0", X_Forwarded_For=attacker)
        assert refused.status == 401
    locked = request(
        cluster.first, "PROPFIND", "/dav/", Authorization=basic("alice", raw), Depth="0", X_Forwarded_For=attacker
    )
    assert locked.status == 401
    assert int(locked.headers["Retry-After"]) > 0
    assert me(cluster.second, raw, attacker).status == 429
    assert me(cluster.second, raw, "198.51.100.10").status == 200


def test_token_failures_on_both_instances_lock_the_address_out_of_both(cluster):
    raw, _ = cluster.token()
    other, _ = cluster.token()
    attacker = "203.0.113.11"
    for port in (cluster.first, cluster.second) * (FAILURE_LIMIT // 2):
        assert me(port, other[:-10] + "0" * 10, attacker).status == 401  # malformed: its checksum fails
    # The right token is refused on either instance while the address is locked out.
    for port in (cluster.first, cluster.second):
        refused = me(port, raw, attacker)
        assert refused.status == 429
        assert int(refused.headers["Retry-After"]) > 0
    assert me(cluster.first, raw, "198.51.100.11").status == 200


def test_a_file_uploaded_through_one_instance_downloads_through_the_other_byte_for_byte(cluster):
    raw, _ = cluster.token()
    content = os.urandom(256 * 1024)
    path = "/common/projects/alpha/from-a.bin"
    assert request(cluster.first, "PUT", f"/dav{path}", content, Authorization=basic("alice", raw)).status == 201
    found = request(cluster.second, "GET", f"/api/v1/nodes?path={path}", Authorization=f"Bearer {raw}")
    node = json.loads(found.data)["uuid"]  # type: ignore[attr-defined]
    download = request(cluster.second, "GET", f"/api/v1/nodes/{node}/content", Authorization=f"Bearer {raw}")
    assert download.status == 200
    assert download.data == content  # type: ignore[attr-defined]
