"""WebDAV request bodies other than a PUT's are XML or nothing: bounded in size before they are read (413), in
depth before they are parsed (400), and whatever they hold they never cause a 500 or a traceback in the log."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dav.xml_body import MAX_DEPTH
from files.models import DavLock
from tests.support.dav_support import LOCK_BODY, DavClient, dav_log, tracebacks

FILE = "/dav/common/welcome.txt"


class _Unread(io.BytesIO):
    """A body that must not be read."""

    def read(self, size: int | None = -1) -> bytes:
        raise AssertionError("the body was read")


class _Counted(io.BytesIO):
    """A body that counts what is read of it."""

    taken = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.taken += len(data)
        return data


def _nested(depth: int) -> bytes:
    return b"<a>" * depth + b"x" + b"</a>" * depth


DEEP = {
    "PROPPATCH": b'<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop>%s</D:prop></D:set>'
    b"</D:propertyupdate>",
    "PROPFIND": b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop>%s</D:prop></D:propfind>',
    "LOCK": b'<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>'
    b"<D:locktype><D:write/></D:locktype><D:owner>%s</D:owner></D:lockinfo>",
}


@pytest.mark.parametrize("method", ["PROPFIND", "PROPPATCH", "LOCK", "COPY", "MOVE", "MKCOL", "UNLOCK", "GET"])
def test_a_body_over_the_limit_is_refused_before_it_is_read(demo, settings, method):
    _token, secret = demo.token(demo.bob)  # bob may only read /common
    declared = str(settings.DAV_MAX_XML_BODY + 1)
    refused = DavClient("bob", secret).request(
        method, FILE, content_length=declared, depth="0", destination="/dav/common/copy.txt", wsgi_input=_Unread()
    )
    assert refused.status == 413
    assert "may be at most 1 MiB" in refused.body.decode()


def test_a_chunked_body_is_read_no_further_than_the_limit(demo, settings):
    settings.DAV_MAX_XML_BODY = 1000
    _token, secret = demo.token(demo.bob)
    body = _Counted(b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>' + b" " * 10_000)
    refused = DavClient("bob", secret).request(
        "PROPFIND", FILE, content_length="", transfer_encoding="chunked", depth="0", wsgi_input=body
    )
    assert refused.status == 413
    assert body.taken <= settings.DAV_MAX_XML_BODY + 1


def test_a_chunked_body_within_the_limit_is_read_as_if_its_length_was_declared(demo):
    _token, secret = demo.token(demo.alice)
    locked = DavClient("alice", secret).request(
        "LOCK", FILE, content_length="", transfer_encoding="chunked", wsgi_input=io.BytesIO(LOCK_BODY)
    )
    assert locked.status == 200
    assert DavLock.objects.count() == 1


@pytest.mark.parametrize("method", ["PROPPATCH", "PROPFIND", "LOCK"])
def test_xml_nested_100_000_deep_is_a_400_that_says_why_without_a_traceback(demo, caplog, method):
    _token, secret = demo.token(demo.alice)
    with dav_log(caplog):
        refused = DavClient("alice", secret).request(method, FILE, DEEP[method] % _nested(100_000), depth="0")
    assert refused.status == 400
    assert f"nests elements more than {MAX_DEPTH} deep" in refused.body.decode()
    assert tracebacks(caplog) == []


def test_a_property_value_nested_as_deep_as_allowed_is_stored(demo):
    _token, secret = demo.token(demo.alice)
    # The property element itself and the four levels above it count too.
    body = DEEP["PROPPATCH"] % b"<Z:deep xmlns:Z='urn:x'>%s</Z:deep>" % _nested(MAX_DEPTH - 5)
    assert DavClient("alice", secret).request("PROPPATCH", FILE, body).status == 207
    assert demo.node("/common/welcome.txt").dead_properties.get().name == "{urn:x}deep"


MALFORMED = [
    b"not xml at all",
    b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop>',
    b"<D:propfind><D:allprop/></D:propfind>",  # an undeclared prefix
    b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>'
    b'<D:propfind xmlns:D="DAV:"><D:prop><x>&lol2;</x></D:prop></D:propfind>',
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    b'<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x>&e;</x></D:prop></D:set></D:propertyupdate>',
    b"\xff\xfe<\x00a\x00>\x00",
    b'<?xml version="1.0" encoding="nonsense"?><a/>',
]


@pytest.mark.parametrize("method", ["PROPPATCH", "PROPFIND", "LOCK"])
@pytest.mark.parametrize("body", MALFORMED)
def test_malformed_xml_is_a_400_without_a_traceback(demo, caplog, method, body):
    _token, secret = demo.token(demo.alice)
    with dav_log(caplog):
        refused = DavClient("alice", secret).request(method, FILE, body, depth="0")
    assert refused.status == 400
    assert tracebacks(caplog) == []


TAGS = st.sampled_from(
    [
        "D:propfind",
        "D:prop",
        "D:allprop",
        "D:propname",
        "D:propertyupdate",
        "D:set",
        "D:remove",
        "D:lockinfo",
        "D:lockscope",
        "D:exclusive",
        "D:locktype",
        "D:write",
        "D:owner",
        "D:href",
        "D:getetag",
        "D:lockdiscovery",
        "Z:colour",
        "plain",
    ]
)
TEXT = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=20)


def _element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(lambda tag, inner: f"<{tag}>{inner}</{tag}>", TAGS, st.lists(children, max_size=4).map("".join))


XML = st.recursive(TEXT.map(lambda text: text.replace("&", "&amp;").replace("<", "&lt;")), _element, max_leaves=12)
BODIES = st.one_of(
    XML.map(lambda inner: f'<?xml version="1.0"?><D:x xmlns:D="DAV:" xmlns:Z="urn:x">{inner}</D:x>'.encode()),
    _element(XML).map(lambda inner: inner.replace(">", ' xmlns:D="DAV:" xmlns:Z="urn:x">', 1).encode()),
    st.binary(max_size=200),
)


@pytest.fixture
def alice_dav(demo) -> DavClient:
    _token, secret = demo.token(demo.alice)
    return DavClient("alice", secret)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=st.sampled_from(["PROPPATCH", "PROPFIND", "LOCK"]), body=BODIES, depth=st.sampled_from(["0", "1"]))
def test_no_xml_body_causes_a_server_error_or_a_traceback(alice_dav, caplog, method, body, depth):
    caplog.clear()
    with dav_log(caplog):
        answered = alice_dav.request(method, "/dav/research/paper.txt", body, depth=depth)
    assert answered.status < 500, (method, body, answered.body[:300])
    assert tracebacks(caplog) == [], body
