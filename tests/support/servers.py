"""Real server processes for tests: the project's own commands on a scratch DATA_DIR (and, when asked, a scratch
PostgreSQL database and Redis), and gunicorn serving the project's WSGI application on free ports."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[2]
POSTGRES = "postgres://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def scratch_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a server process on ``data_dir``; file contents in the object store when the test
    put its own there (``s3_blobs``)."""
    keep = {"PATH", "HOME", "LANG"}
    env = {key: value for key, value in os.environ.items() if key in keep or key.startswith("BLOB_S3_")}
    env.update(DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="cellsadmin.settings", DEMO_PASSWORD="two-proc-pass")
    env.update(extra)
    return env


@contextmanager
def scratch_postgres() -> Iterator[str]:
    """A new, empty PostgreSQL database for server processes; dropped afterwards. Yields its URL."""
    import psycopg

    name = f"cellsadmin_scratch_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``manage.py`` with these arguments, whatever its exit status."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def manage(env: dict[str, str], *args: str) -> str:
    result = run_manage(env, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def request(port: int, method: str, path: str, body: bytes = b"", **headers: str) -> http.client.HTTPResponse:
    """One request on a fresh connection; header names with ``_`` for ``-``. The body is read into ``.data``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(
        method, path, body=body, headers={key.replace("_", "-"): value for key, value in headers.items()}
    )
    response = connection.getresponse()
    response.data = response.read()  # type: ignore[attr-defined]
    connection.close()
    return response


@contextmanager
def gunicorn(
    env: dict[str, str],
    count: int = 2,
    output: IO[bytes] | None = None,
    *,
    each: list[dict[str, str]] | None = None,
) -> Iterator[list[int]]:
    """``count`` gunicorn instances (one worker each) on free ports; yields the ports once all answer. Their
    standard output and error (the access and error logs) go to ``output`` when given. ``each``: one instance
    per entry, whose variables are added to ``env`` (its own ``DATA_DIR``, say)."""
    environments = [{**env, **own} for own in each] if each is not None else [env] * count
    ports = [free_port() for _ in environments]
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
            env=environment,
            stdout=output if output is not None else subprocess.DEVNULL,
            stderr=output if output is not None else subprocess.DEVNULL,
        )
        for port, environment in zip(ports, environments, strict=True)
    ]
    try:
        for port in ports:
            deadline = time.monotonic() + 30
            while not reachable(port):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not listen on {port}")
                time.sleep(0.1)  # waiting for a server to listen, not for time to pass
        yield ports
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)


class SlowUpload:
    """A PUT whose body is still arriving: all of it but the last byte is sent, the last byte on ``finish()``.

    Meanwhile the server process that took it is inside the request, and another process can be asked
    something. A body larger than the sockets' buffers (tens of MiB on loopback) can only have been sent once
    the server has started reading it, past the checks it makes before the body."""

    def __init__(self, port: int, path: str, body: bytes, **headers: str) -> None:
        self._connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self._connection.putrequest("PUT", path)
        self._connection.putheader("Content-Length", str(len(body)))
        for key, value in headers.items():
            self._connection.putheader(key.replace("_", "-"), value)
        self._connection.endheaders()
        self._last = body[-1:]
        self._connection.send(body[:-1])

    def finish(self) -> http.client.HTTPResponse:
        self._connection.send(self._last)
        response = self._connection.getresponse()
        response.data = response.read()  # type: ignore[attr-defined]
        self._connection.close()
        return response
