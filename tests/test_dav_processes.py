"""Locks live in the database: a lock taken through one server process is honoured by another.

Two gunicorn processes serve the project's WSGI application on two ports over one database (a scratch
``DATA_DIR`` with its SQLite file and content storage, set up with the project's own commands)."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dav_support import basic, free_port
from tests.test_dav_scopes import LOCK_BODY

pytestmark = pytest.mark.system

ROOT = Path(__file__).resolve().parent.parent


def _env(data_dir: Path) -> dict[str, str]:
    keep = {"PATH", "HOME", "LANG"}
    env = {key: value for key, value in os.environ.items() if key in keep}
    env.update(DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="cellsadmin.settings", DEMO_PASSWORD="two-proc-pass")
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _request(port: int, method: str, path: str, body: bytes = b"", **headers: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(
        method, path, body=body, headers={key.replace("_", "-"): value for key, value in headers.items()}
    )
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int, str]]:
    data_dir = tmp_path_factory.mktemp("two-processes")
    env = _env(data_dir)
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "seed_demo")
    secret = _manage(env, "user_token", "-u", "alice", "-e", "1d", "-q").strip()
    ports = [free_port(), free_port()]
    servers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "1",
                "--bind",
                f"127.0.0.1:{port}",
                "cellsadmin.wsgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        for port in ports:
            deadline = time.monotonic() + 30
            while True:
                try:
                    _request(port, "GET", "/login/")
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)  # waiting for a server to listen, not for time to pass
        yield ports[0], ports[1], secret
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)


def test_a_lock_taken_in_one_process_is_honoured_by_another(two_servers):
    first, second, secret = two_servers
    auth = basic("alice", secret)
    path = "/dav/common/welcome.txt"
    locked = _request(first, "LOCK", path, LOCK_BODY, Authorization=auth, Depth="0")
    assert locked.status == 200
    lock_token = locked.headers["Lock-Token"]

    assert _request(second, "PUT", path, b"elsewhere", Authorization=auth).status == 423
    assert _request(second, "LOCK", path, LOCK_BODY, Authorization=auth, Depth="0").status == 423
    assert _request(second, "DELETE", path, Authorization=auth).status == 423
    assert _request(second, "PUT", path, b"with the token", Authorization=auth, If=f"({lock_token})").status == 204

    assert _request(second, "UNLOCK", path, Authorization=auth, Lock_Token=lock_token).status == 204
    assert _request(first, "PUT", path, b"unlocked", Authorization=auth).status == 204
