"""Locks live in the database: a lock taken through one server process is honoured by another.

Two gunicorn processes serve the project's WSGI application on two ports over one database (a scratch
``DATA_DIR`` with its SQLite file and content storage, set up with the project's own commands)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.dav_support import LOCK_BODY, basic
from tests.support.object_store import served_blobs
from tests.support.servers import gunicorn, manage, request, scratch_env
from tests.support.two_processes import (
    check_a_folder_locked_elsewhere_while_a_small_file_arrives_refuses_it,
    check_a_lock_granted_elsewhere_while_a_body_arrives_refuses_the_write,
    check_a_webdav_lock_holds_against_the_api_of_another_process,
)

pytestmark = pytest.mark.system


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int, str, Path]]:
    data_dir = tmp_path_factory.mktemp("two-processes")
    env = scratch_env(data_dir)
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "seed_demo")
    secret = manage(env, "user_token", "-u", "alice", "-e", "1d", "-q").strip()
    with gunicorn(env) as (first, second):
        yield first, second, secret, data_dir


def test_a_lock_taken_in_one_process_is_honoured_by_another(two_servers):
    first, second, secret, _data_dir = two_servers
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


def blob_count(data_dir: Path) -> int:
    return len(served_blobs(data_dir))


def test_a_lock_granted_by_another_process_while_a_body_arrives_refuses_the_write(two_servers):
    first, second, secret, data_dir = two_servers
    blobs = blob_count(data_dir)
    check_a_lock_granted_elsewhere_while_a_body_arrives_refuses_the_write(first, second, basic("alice", secret))
    assert blob_count(data_dir) == blobs  # the refused upload left no content behind


def test_a_folder_locked_by_another_process_while_a_file_arrives_refuses_it(two_servers):
    first, second, secret, data_dir = two_servers
    blobs = blob_count(data_dir)
    check_a_folder_locked_elsewhere_while_a_small_file_arrives_refuses_it(first, second, basic("alice", secret))
    assert blob_count(data_dir) == blobs


def test_a_webdav_lock_taken_in_one_process_holds_against_the_api_of_another(two_servers):
    first, second, secret, _data_dir = two_servers
    check_a_webdav_lock_holds_against_the_api_of_another_process(first, second, secret)


def test_password_failures_are_counted_across_processes_without_redis(two_servers):
    first, second, secret, _data_dir = two_servers
    for attempt in range(5):  # alternately through either process: the count is one
        port = first if attempt % 2 else second
        assert request(port, "PROPFIND", "/dav/", Depth="0", Authorization=basic("bob", "wrong")).status in {401, 429}
    locked = request(first, "PROPFIND", "/dav/", Depth="0", Authorization=basic("bob", "two-proc-pass"))
    assert locked.status in {401, 429} and locked.getheader("Retry-After")
    assert request(second, "PROPFIND", "/dav/", Depth="0", Authorization=basic("alice", secret)).status == 207
