"""WebDAV error bodies: a refused request says why; a server error says nothing but its status."""

from __future__ import annotations

import logging

from files.dav import listing
from tests.dav_support import DavClient


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

    monkeypatch.setattr(listing, "propfind", broken)
    with caplog.at_level(logging.ERROR, logger="files.dav.app"):
        failed = DavClient("alice", secret).propfind("/dav/common", depth="1")
    assert failed.status == 500
    assert failed.body == b"500 Internal Server Error\n"
    assert "connection to /var/lib/secret refused" in caplog.text  # logged, not shown
