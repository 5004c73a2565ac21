"""Locks live in the database: a lock taken through one server process is honoured by another.

Two gunicorn processes serve the project's WSGI application on two ports over one database (a scratch
``DATA_DIR`` with its SQLite file and content storage, set up with the project's own commands)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.dav_support import basic
from tests.servers import gunicorn, manage, request, scratch_env
from tests.test_dav_scopes import LOCK_BODY

pytestmark = pytest.mark.system


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int, str]]:
    env = scratch_env(tmp_path_factory.mktemp("two-processes"))
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "seed_demo")
    secret = manage(env, "user_token", "-u", "alice", "-e", "1d", "-q").strip()
    with gunicorn(env) as (first, second):
        yield first, second, secret


def test_a_lock_taken_in_one_process_is_honoured_by_another(two_servers):
    first, second, secret = two_servers
    auth = basic("alice", secret)
    path = "/dav/common/welcome.txt"
    locked = request(first, "LOCK", path, LOCK_BODY, Authorization=auth, Depth="0")
    assert locked.status == 200
    lock_token = locked.headers["Lock-Token"]

    assert request(second, "PUT", path, b"elsewhere", Authorization=auth).status == 423
    assert request(second, "LOCK", path, LOCK_BODY, Authorization=auth, Depth="0").status == 423
    assert request(second, "DELETE", path, Authorization=auth).status == 423
    assert request(second, "PUT", path, b"with the token", Authorization=auth, If=f"({lock_token})").status == 204

    assert request(second, "UNLOCK", path, Authorization=auth, Lock_Token=lock_token).status == 204
    assert request(first, "PUT", path, b"unlocked", Authorization=auth).status == 204
