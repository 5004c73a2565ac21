"""Requests straight into the project's WSGI application, in this process.

Unlike Django's test client, the application then runs its whole request cycle as a server would, the
connection's per-request checks included (the test client disconnects those)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from wsgiref.util import setup_testing_defaults

from tokens import format as token_format
from tokens.models import PersonalAccessToken


@dataclass
class WsgiResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def wsgi_request(
    method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"", address: str = "127.0.0.1"
) -> WsgiResponse:
    from cellsadmin.wsgi import application

    environ: dict[str, object] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "REMOTE_ADDR": address,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    setup_testing_defaults(environ)
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: object = None) -> None:
        started.append((status, response_headers))

    result = application(environ, start_response)
    try:
        content = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()  # request_finished: what a server does at the end of every response
    status, response_headers = started[-1]
    return WsgiResponse(status=int(status.split()[0]), headers=response_headers, body=content)


def wrong_secret(token: PersonalAccessToken) -> str:
    """A well-formed token string with ``token``'s public id and a secret that is not its own."""
    body = token_format.PREFIX + token.lookup_id + "x" * token_format.SECRET_LENGTH
    return body + token_format._checksum(body)
