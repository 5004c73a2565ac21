"""PROPFIND Depth 0 and 1 answered by dav.propfind says what WsgiDAV's own handler says, for every kind
of request it takes on (and it leaves the others to WsgiDAV)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from wsgidav import util

from dav import live_properties, propfind
from files.models import DavLock
from tests.support.dav_support import LOCK_BODY, DavClient, Response

FOLDER = "/dav/common/listing"
ODD_NAME = "a&b <c> (1) é %.txt"
PARIS = ZoneInfo("Europe/Paris")

ALLPROP = b'<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>'


def _prop(*elements: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:" xmlns:Z="urn:z" xmlns:Q="urn:q&amp;">'
        f"<D:prop>{''.join(elements)}</D:prop></D:propfind>"
    ).encode()


NAMED = _prop(
    "<D:getetag/>",
    "<D:getcontentlength/>",
    "<D:getcontenttype/>",
    "<D:resourcetype/>",
    "<D:displayname/>",
    "<D:getlastmodified/>",
    "<D:creationdate/>",
    "<D:lockdiscovery/>",
    "<D:supportedlock/>",
    "<Z:colour/>",
    "<Q:missing/>",
    '<plain xmlns=""/>',
)
BODIES = {
    "empty": b"",
    "allprop": ALLPROP,
    "named": NAMED,
    "dead only": _prop("<Z:colour/>", "<Z:shape/>"),
    # rclone's: live properties only (no dead properties or locks are read for it)
    "live only": _prop("<D:displayname/>", "<D:getlastmodified/>", "<D:getcontentlength/>", "<D:resourcetype/>"),
    "locks, no dead properties": _prop("<D:lockdiscovery/>", "<D:resourcetype/>"),
}


def _canonical(element: ElementTree.Element) -> object:
    children = [_canonical(child) for child in element]
    if element.tag == "{DAV:}prop":
        children.sort(key=repr)  # the order of properties carries no meaning (and dead ones come as stored)
    return (element.tag, sorted(element.attrib.items()), (element.text or "").strip(), children)


def _multistatus(response: Response) -> object:
    assert response.status == 207, response.body
    assert response.headers["content-type"] == "application/xml; charset=utf-8"
    assert int(response.headers["content-length"]) == len(response.body)
    # A lock's remaining seconds may tick between the two answers.
    text = re.sub(rb"Second-\d+", b"Second-N", response.body)
    return _canonical(ElementTree.fromstring(text))  # noqa: S314 (our own server's answer, in a test)


def _both(dav: DavClient, path: str, depth: str, body: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    fast = dav.propfind(path, depth=depth, body=body)
    with monkeypatch.context() as patch:
        patch.setattr(propfind, "propfind", lambda *args: None)
        stock = dav.propfind(path, depth=depth, body=body)
    return _multistatus(fast), _multistatus(stock)


@pytest.fixture
def tree(demo):
    _token, secret = demo.token(demo.alice)
    dav = DavClient("alice", secret)
    assert dav.request("MKCOL", FOLDER).status == 201
    assert dav.request("MKCOL", f"{FOLDER}/sub").status == 201
    assert dav.put(f"{FOLDER}/{ODD_NAME}", b"hello").status == 201
    assert dav.put(f"{FOLDER}/plain.bin", b"\x00\x01", content_type="").status == 201
    assert dav.put(f"{FOLDER}/sub/inner.txt", b"inner").status == 201
    for path, value in ((f"{FOLDER}/{ODD_NAME}", "bl&amp;ue"), (FOLDER, "<Z:x>red</Z:x>")):
        patch = (
            '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop>'
            f"<Z:colour>{value}</Z:colour><Z:shape>round</Z:shape></D:prop></D:set></D:propertyupdate>"
        ).encode()
        assert dav.request("PROPPATCH", path, patch).status == 207
    assert dav.request("LOCK", f"{FOLDER}/{ODD_NAME}", LOCK_BODY, depth="0").status == 200
    assert dav.request("LOCK", f"{FOLDER}/sub", LOCK_BODY, depth="infinity").status == 200
    shared = LOCK_BODY.replace(b"exclusive", b"shared")
    assert dav.request("LOCK", f"{FOLDER}/plain.bin", shared, depth="0").status == 200
    assert dav.request("LOCK", f"{FOLDER}/plain.bin", shared, depth="0").status == 200
    assert DavLock.objects.count() == 4
    return demo


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
@pytest.mark.parametrize("depth", ["0", "1"])
@pytest.mark.parametrize(
    "path", [FOLDER, f"{FOLDER}/", f"{FOLDER}/{ODD_NAME}", f"{FOLDER}/sub", "/dav/common", "/dav/research/"]
)
def test_listing_matches_wsgidav(tree, monkeypatch, path, depth, body):
    _token, secret = tree.token(tree.alice)
    fast, stock = _both(DavClient("alice", secret), path, depth, body, monkeypatch)
    assert fast == stock


@pytest.mark.parametrize("body", [ALLPROP, NAMED], ids=["allprop", "named"])
@pytest.mark.parametrize(
    ("login", "scope", "path"),
    [
        ("bob", None, FOLDER),  # read-only grant: no lock properties in allprop
        ("alice", "r", FOLDER),
        ("alice", "rw", FOLDER),
        ("alice", "rw", "/dav/common"),  # traverse-only: just the branch to the scope
        ("alice", "rw", f"{FOLDER}/sub"),
    ],
)
def test_listing_matches_wsgidav_for_grants_and_scopes(tree, monkeypatch, body, login, scope, path):
    scopes = [f"node:{tree.node('/common/listing/sub').uuid}:{scope}"] if scope else []
    _token, secret = tree.token(getattr(tree, login), scopes=scopes)
    fast, stock = _both(DavClient(login, secret), path, "1", body, monkeypatch)
    assert fast == stock


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>', {}),
        (_prop("<D:quota-used-bytes/>"), {}),
        (ALLPROP, {"if_none_match": '"nothing"'}),
        (b"<not-xml", {}),
        (b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/><D:prop/></D:propfind>', {}),
    ],
    ids=["propname", "quota", "conditional", "malformed", "allprop and prop"],
)
def test_other_requests_are_left_to_wsgidav(tree, monkeypatch, body, headers):
    _token, secret = tree.token(tree.alice)
    dav = DavClient("alice", secret)
    calls: list[object] = []
    original = propfind.propfind

    def spy(*args: object) -> object:
        answer = original(*args)
        calls.append(answer)
        return answer

    monkeypatch.setattr(propfind, "propfind", spy)
    fast = dav.propfind(FOLDER, body=body, **headers)
    assert calls == [None]
    monkeypatch.setattr(propfind, "propfind", lambda *args: None)
    stock = dav.propfind(FOLDER, body=body, **headers)
    assert (fast.status, fast.body) == (stock.status, stock.body)


def test_a_missing_path_is_still_404(tree):
    _token, secret = tree.token(tree.alice)
    assert DavClient("alice", secret).propfind(f"{FOLDER}/nothing-here").status == 404


@given(
    moment=st.datetimes(
        min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.sampled_from([UTC, PARIS])
    )
)
@example(moment=datetime(2514, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))
def test_dates_are_written_as_wsgidav_writes_them(moment):
    # The whole second the moment falls in, counted exactly: a float timestamp of a far-off moment can round
    # up into the next second (2514-12-31 23:59:59.999999 gives 2515-01-01 00:00:00).
    seconds = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(seconds=1)
    assert live_properties._rfc1123(moment) == util.get_rfc1123_time(seconds)
    assert live_properties._rfc3339(moment) == util.get_rfc3339_time(seconds)
