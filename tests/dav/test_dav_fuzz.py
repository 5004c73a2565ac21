"""Hypothesis over WebDAV paths and Destination headers: never a 500, never a change outside the token's reach.

Paths are generated as a client would send them (percent-encoding, dot segments, encoded slashes, unicode,
absolute URLs to other hosts) and decoded as a WSGI server decodes them."""

from __future__ import annotations

import urllib.parse

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from files.models import Node
from tests.support.content import content_of
from tests.support.dav_support import LOCK_BODY, PROPPATCH_BODY, DavClient
from tests.support.tree_support import ALPHA, outside_alpha

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


LATIN_1 = st.text(alphabet=st.characters(max_codepoint=255), max_size=60)
IF_HEADERS = st.one_of(
    LATIN_1,
    st.sampled_from(
        [
            "([{etag}])",
            '(["{etag}"])',
            "(Not [{etag}])",
            "(<opaquelocktoken:nothing> [{etag}])",
            "(Not <DAV:no-lock>)",
            "<http://testserver/dav/research/paper.txt> ([{etag}])",
            "</dav/research/paper.txt> (Not [{etag}])",
            "<*> ([{etag}])",
            "(",
            "([)",
            "(<>)",
            "<> ()",
            "(Not)",
        ]
    ),
)
DATES = st.one_of(
    LATIN_1,
    st.sampled_from(
        [
            "Thu, 01 Jan 1970 00:00:00 GMT",
            "Fri, 31 Dec 9999 23:59:59 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Tue, 32 Dec 2026 00:00:00 GMT",
            "Tue, 01 Dec 2026 25:61:61 GMT",
        ]
    ),
)
TAGS = st.one_of(LATIN_1, st.sampled_from(["*", "{etag}", "W/{etag}", '"other", {etag}', '"']))


@pytest.fixture
def alice_dav(demo):
    _token, secret = demo.token(demo.alice)
    return DavClient("alice", secret)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    headers=st.fixed_dictionaries(
        {},
        optional={
            "if": IF_HEADERS,
            "if_match": TAGS,
            "if_none_match": TAGS,
            "if_unmodified_since": DATES,
            "if_modified_since": DATES,
        },
    )
)
def test_no_conditional_upload_errors_or_writes_when_refused(alice_dav, headers):
    """Whatever conditions a PUT carries, the answer is never a 500; a refused upload changes nothing, and one
    that is let through stores its body."""
    dav = alice_dav
    path = "/dav/research/paper.txt"
    before = Node.objects.get(workspace__slug="research", path="/paper.txt")
    etag = dav.request("HEAD", path).headers["etag"]
    sent = {name: value.replace("{etag}", etag) for name, value in headers.items()}
    response = dav.put(path, b"fuzz", **sent)
    event(f"status {response.status}")
    assert response.status < 500, (sent, response.status, response.body[:300])
    after = Node.objects.get(pk=before.pk)
    if response.status < 300:
        assert content_of(after) == b"fuzz"
    else:
        assert (after.etag, after.blob) == (before.etag, before.blob), (sent, response.status)
