"""Hypothesis over WebDAV paths and Destination headers: never a 500, never a change outside the token's reach.

Paths are generated as a client would send them (percent-encoding, dot segments, encoded slashes, unicode,
absolute URLs to other hosts) and decoded as a WSGI server decodes them."""

from __future__ import annotations

import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from files.models import Node
from tests.dav_support import DavClient
from tests.test_dav_scopes import LOCK_BODY, PROPPATCH_BODY

SEGMENTS = st.one_of(
    st.sampled_from(
        [
            "common",
            "research",
            "projects",
            "alpha",
            "beta",
            "welcome.txt",
            "paper.txt",
            "data.csv",
            "readme.txt",
            "..",
            ".",
            "%2e%2e",
            "%2E%2E%2F",
            "%2F",
            "a%2Fb",
            "%00",
            "%ff",
            "ü",
            "%C3%BC",
            "\u202e",
            "~",
            "",
            "x" * 300,
        ]
    ),
    st.text(min_size=1, max_size=12).map(lambda text: urllib.parse.quote(text, safe="")),
)
RAW_PATHS = st.lists(SEGMENTS, max_size=6).map(lambda parts: "/dav/" + "/".join(parts))
DESTINATIONS = st.one_of(
    RAW_PATHS,
    RAW_PATHS.map(lambda path: "http://testserver" + path),
    RAW_PATHS.map(lambda path: "http://evil.example" + path),
    st.sampled_from(
        [
            "",
            "not a url",
            "http://",
            "//evil.example/dav/research/x",
            "/dav/../research/x",
            "/dav/common/projects/alpha/../../../research/stolen.txt",
        ]
    ),
)
METHODS = st.sampled_from(["GET", "PUT", "MKCOL", "DELETE", "COPY", "MOVE", "PROPFIND", "PROPPATCH", "LOCK"])
ALPHA = "/common/projects/alpha"


def outside_alpha() -> set[tuple[str, str, str]]:
    """Everything outside the scope, as it is now."""
    return {
        (node.workspace.slug, node.path, node.etag)
        for node in Node.objects.select_related("workspace")
        if not (
            node.workspace.slug == "common"
            and (node.path == "/projects/alpha" or node.path.startswith("/projects/alpha/"))
        )
    }


def decoded(raw: str) -> str:
    # A WSGI server percent-decodes the path (PEP 3333); DavClient then hands it over latin-1 encoded.
    return urllib.parse.unquote(raw, errors="replace")


@pytest.fixture
def scoped_dav(demo):
    alpha = demo.node(ALPHA)
    _token, secret = demo.token(demo.alice, scopes=[f"node:{alpha.uuid}:rw"])
    return DavClient("alice", secret)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=METHODS,
    raw=RAW_PATHS,
    destination=DESTINATIONS,
    depth=st.sampled_from(["0", "1", "infinity"]),
    overwrite=st.sampled_from(["T", "F"]),
)
def test_no_request_errors_or_reaches_outside_the_scope(scoped_dav, method, raw, destination, depth, overwrite):
    before = outside_alpha()
    body = {"PUT": b"fuzz", "PROPPATCH": PROPPATCH_BODY, "LOCK": LOCK_BODY}.get(method, b"")
    response = scoped_dav.request(method, decoded(raw), body, destination=destination, depth=depth, overwrite=overwrite)
    # RFC 4918 §9.8.5: a Destination on another server (or outside /dav) is 502 Bad Gateway; nothing else is 5xx.
    allowed = response.status < 500 or (response.status == 502 and method in {"COPY", "MOVE"})
    assert allowed, (method, raw, destination, response.status, response.body[:300])
    assert outside_alpha() == before, (method, raw, destination)
    if method == "GET" and response.status == 200:
        assert decoded(raw).rstrip("/").startswith("/dav" + ALPHA) or response.headers.get(
            "content-type", ""
        ).startswith("text/html")
