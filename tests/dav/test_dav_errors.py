"""WebDAV error bodies: a refused request says why; a server error says nothing but its status."""

from __future__ import annotations

import logging

import pytest

from dav import propfind
from tests.support.dav_support import DavClient


def test_a_refusal_says_why(demo):
    _token, secret = demo.token(demo.bob)  # bob may only read /common
    refused = DavClient("bob", secret).put("/dav/common/new.txt", b"x")
    assert refused.status == 403
    assert refused.headers["content-type"] == "text/plain; charset=utf-8"
    assert refused.body.decode().splitlines() == [
        "403 Forbidden",
        "This folder cannot be written with this token or account.",
    ]


def test_a_bad_header_says_which(demo):
    _token, secret = demo.token(demo.alice)
    refused = DavClient("alice", secret).put("/dav/common/new.txt", b"x", x_oc_mtime="yesterday")
    assert refused.status == 400
    assert "X-OC-Mtime must be the seconds since 1970" in refused.body.decode()


def test_a_server_error_tells_nothing_but_its_status(demo, monkeypatch, caplog):
    _token, secret = demo.token(demo.alice)

    def broken(*args: object) -> None:
        raise RuntimeError("connection to /var/lib/secret refused")

    monkeypatch.setattr(propfind, "propfind", broken)
    with caplog.at_level(logging.ERROR, logger="dav.app"):
        failed = DavClient("alice", secret).propfind("/dav/common", depth="1")
    assert failed.status == 500
    assert failed.body == b"500 Internal Server Error\n"
    assert "connection to /var/lib/secret refused" in caplog.text  # logged, not shown


ALPHA = "/dav/common/projects/alpha"


@pytest.mark.parametrize(
    ("method", "path", "destination", "operation"),
    [
        ("COPY", ALPHA, "/dav/research/alpha", "files.copies.copy"),
        ("MOVE", ALPHA, "/dav/research/alpha", "files.services.move"),
        ("MOVE", ALPHA, "/dav/common/projects/beta", "files.services.delete"),  # over an existing folder
        ("DELETE", ALPHA, None, "files.services.delete"),
    ],
)
def test_a_server_error_inside_copy_move_or_delete_tells_nothing_either(
    demo, monkeypatch, caplog, method, path, destination, operation
):
    """WsgiDAV catches what these raise and writes its own error page, which would show the exception."""
    _token, secret = demo.token(demo.alice)

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk /var/lib/secret is full")

    monkeypatch.setattr(operation, broken)
    headers = {"destination": destination} if destination else {}
    with caplog.at_level(logging.ERROR):
        failed = DavClient("alice", secret).request(method, path, **headers)
    assert failed.status == 500
    assert failed.body == b"500 Internal Server Error\n"
    assert "disk /var/lib/secret is full" in caplog.text  # logged, not shown


def test_a_refusal_inside_copy_says_why_in_the_same_form(demo):
    _token, secret = demo.token(demo.alice)
    refused = DavClient("alice", secret).request("COPY", f"{ALPHA}/readme.txt", destination="/dav/common/projects")
    assert refused.status == 403
    assert refused.headers["content-type"] == "text/plain; charset=utf-8"
    assert refused.body.decode().splitlines() == [
        "403 Forbidden",
        "A resource cannot be copied onto a folder that holds it.",
    ]
