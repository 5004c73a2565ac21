"""Scale-out: two gunicorn instances sharing one PostgreSQL database and one Redis, as behind a load balancer.

Revocation, WebDAV locks and the failed-authentication throttle must hold across both at once."""

from __future__ import annotations

import json
import os
import re
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.support.dav_support import LOCK_BODY, basic
from tests.support.servers import gunicorn, manage, reachable, request, scratch_env, scratch_postgres
from tests.support.two_processes import (
    check_a_folder_locked_elsewhere_while_a_small_file_arrives_refuses_it,
    check_a_lock_granted_elsewhere_while_a_body_arrives_refuses_the_write,
    check_a_webdav_lock_holds_against_the_api_of_another_process,
)

pytestmark = pytest.mark.system


@dataclass
class Cluster:
    first: int
    second: int
    env: dict[str, str]

    def token(self, *args: str) -> tuple[str, str]:
        """A new token of alice's: (plain text, uuid)."""
        data = json.loads(manage(self.env, "user_token", "-u", "alice", "-e", "1d", "--json", *args))
        return data["token"], data["uuid"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if not (reachable(5432) and reachable(6379)):
        message = "needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379"
        if os.environ.get("REQUIRE_SYSTEM_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    with scratch_postgres() as database_url:
        env = scratch_env(
            tmp_path_factory.mktemp("cluster"),
            DATABASE_URL=database_url,
            REDIS_URL="redis://127.0.0.1:6379/0",
            CACHE_KEY_PREFIX=f"scale-out-{uuid.uuid4().hex[:8]}",
            AUTH_FAILURE_LIMIT="4",
            AUTH_FAILURE_WINDOW="3600",
        )
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "seed_demo")
        with gunicorn(env) as (first, second):
            yield Cluster(first, second, env)


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


def test_a_token_deleted_through_one_instance_is_refused_by_the_other(cluster):
    raw, token_uuid = cluster.token()
    auth = basic("alice", raw)
    assert request(cluster.second, "PROPFIND", "/dav/", Authorization=auth, Depth="0").status == 207
    admin = console_session(cluster.first, "admin", "two-proc-pass")
    deleted = request(cluster.first, "POST", f"/people/alice/tokens/{token_uuid}/delete/", HX_Request="true", **admin)
    assert deleted.status == 200
    assert request(cluster.second, "PROPFIND", "/dav/", Authorization=auth, Depth="0").status == 401


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


def test_the_failure_throttle_counts_across_both_instances(cluster):
    raw, _ = cluster.token()
    wrong = basic("alice", "not-the-password")
    # Each instance sees two failures; together they reach the limit of four.
    for port in (cluster.first, cluster.second, cluster.first, cluster.second):
        assert request(port, "PROPFIND", "/dav/", Authorization=wrong, Depth="0").status == 401
    refused = request(cluster.first, "PROPFIND", "/dav/", Authorization=basic("alice", raw), Depth="0")
    assert refused.status == 401
    assert int(refused.headers["Retry-After"]) > 0
