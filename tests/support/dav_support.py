"""Helpers for the WebDAV tests: a WSGI-level client for the ``/dav`` dispatcher (fast, inside the test's
transaction), and a real HTTP server on 127.0.0.1 for litmus and rclone."""

from __future__ import annotations

import base64
import io
import logging
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from xml.etree import ElementTree

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection, connections

#: A LOCK request's body: an exclusive write lock.
LOCK_BODY = (
    b'<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>'
    b"<D:locktype><D:write/></D:locktype><D:owner>test</D:owner></D:lockinfo>"
)
#: A PROPPATCH request's body: sets one dead property.
PROPPATCH_BODY = (
    b'<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:x"><D:set><D:prop>'
    b"<Z:colour>blue</Z:colour></D:prop></D:set></D:propertyupdate>"
)
#: The LOCK an office suite sends: its owner names the application and the machine.
EDITOR_LOCK_BODY = (
    b'<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>'
    b"<D:locktype><D:write/></D:locktype><D:owner><D:href>LibreOffice on alice-laptop</D:href></D:owner>"
    b"</D:lockinfo>"
)


def basic(login: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{login}:{secret}".encode()).decode()


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes = field(repr=False)

    def hrefs(self) -> list[str]:
        """The hrefs of a multistatus body, in order."""
        tree = ElementTree.fromstring(self.body)  # noqa: S314 (our own server's response, in a test)
        return [element.text or "" for element in tree.findall("{DAV:}response/{DAV:}href")]

    def names(self) -> list[str]:
        """The member names of a Depth 1 PROPFIND (the first href is the collection itself)."""
        from urllib.parse import unquote

        return sorted(unquote(href.rstrip("/").rsplit("/", 1)[-1]) for href in self.hrefs()[1:])


def _keep_connections() -> None:
    pass


class DavClient:
    """Calls the project's WSGI application directly, as Django's test client does (without closing the
    test's database connection)."""

    def __init__(self, login: str = "", secret: str = "") -> None:
        from cellsadmin.wsgi import application, dispatcher

        self.application = application
        self.dispatcher = dispatcher
        self.authorization = basic(login, secret) if login else ""

    def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        authorization: str | None = None,
        wsgi_input: object | None = None,
        environ_extra: dict[str, object] | None = None,
        **headers: str,
    ) -> Response:
        environ = {
            "REQUEST_METHOD": method,
            # PEP 3333: the path arrives as latin-1 decoded bytes.
            "PATH_INFO": path.encode().decode("latin-1"),
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "testserver",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": wsgi_input if wsgi_input is not None else io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "CONTENT_LENGTH": str(len(body)),
        }
        auth = self.authorization if authorization is None else authorization
        if auth:
            environ["HTTP_AUTHORIZATION"] = auth
        for name, value in headers.items():
            key = name.upper().replace("-", "_")
            if key in {"CONTENT_TYPE", "CONTENT_LENGTH"}:
                if value:
                    environ[key] = value
                else:
                    environ.pop(key, None)
            else:
                environ["HTTP_" + key] = value
        environ.update(environ_extra or {})
        captured: dict[str, object] = {}

        def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: object = None) -> None:
            captured["status"] = status
            captured["headers"] = response_headers

        # The test's transaction lives on the connection: neither Django's handler nor the DAV dispatcher may
        # close it at the request's edges.
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        housekeeping, self.dispatcher.housekeeping = self.dispatcher.housekeeping, _keep_connections
        try:
            result = self.application(environ, start_response)
            try:
                data = b"".join(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
        finally:
            self.dispatcher.housekeeping = housekeeping
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        status = str(captured["status"])
        response_headers = {name.lower(): value for name, value in captured["headers"]}  # type: ignore[attr-defined]
        return Response(int(status.split()[0]), response_headers, data)

    def propfind(self, path: str, depth: str = "1", body: bytes = b"", **headers: str) -> Response:
        return self.request("PROPFIND", path, body, depth=depth, **headers)

    def put(self, path: str, body: bytes, **headers: str) -> Response:
        return self.request("PUT", path, body, **headers)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def closing_connections(application):
    """Close each server thread's connections after every request, so none outlives the test database."""

    def app(environ, start_response):
        result = application(environ, start_response)
        try:
            yield from result
        finally:
            if hasattr(result, "close"):
                result.close()
            connections.close_all()

    return app


@contextmanager
def live_server() -> Iterator[str]:
    """Serve the project's WSGI application (console, API and /dav) on 127.0.0.1 from a thread; yields the
    base URL. The server's threads use the test database (tests using it need ``transactional_db``)."""
    from cheroot import wsgi

    from cellsadmin.wsgi import application

    # SQLite's shared in-memory test database does not take concurrent writers: one request at a time.
    threads = 1 if connection.vendor == "sqlite" else 4
    port = free_port()
    server = wsgi.Server(("127.0.0.1", port), closing_connections(application), numthreads=threads)
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        thread.join(timeout=10)


@contextmanager
def dav_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """``caplog``, seeing WsgiDAV's log too: its logger does not propagate to the root logger, where caplog listens."""
    logger = logging.getLogger("wsgidav")
    logger.addHandler(caplog.handler)
    try:
        yield caplog
    finally:
        logger.removeHandler(caplog.handler)


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The messages of the records logged with an exception (a traceback in the log) or at ERROR and above."""
    return [record.getMessage() for record in caplog.records if record.exc_info or record.levelno >= logging.ERROR]


def editor_lock(dav: DavClient, path: str, depth: str = "0") -> str:
    """An office suite's lock on ``path`` for an hour: its token."""
    locked = dav.request("LOCK", path, EDITOR_LOCK_BODY, depth=depth, timeout="Second-3600")
    assert locked.status == 200, locked.body
    return locked.headers["lock-token"].strip("<>")
