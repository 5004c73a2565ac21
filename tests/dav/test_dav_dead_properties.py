"""Dead properties (PROPPATCH): capped per request, per property and per node, refused all or nothing with a reason,
and written in one statement per kind of change however many there are."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dav.properties import MAX_NAME_LENGTH, MAX_NODE_SIZE, MAX_PER_REQUEST, MAX_PROPERTY_SIZE
from files.models import DeadProperty
from tests.support.dav_support import DavClient, Response

FILE = "/dav/research/paper.txt"


def _set(props: dict[str, str]) -> str:
    """A ``<set>`` instruction: local name in urn:x → text."""
    return (
        "<D:set><D:prop>"
        + "".join(f"<Z:{name}>{text}</Z:{name}>" for name, text in props.items())
        + "</D:prop></D:set>"
    )


def _remove(names: list[str]) -> str:
    return "<D:remove><D:prop>" + "".join(f"<Z:{name}/>" for name in names) + "</D:prop></D:remove>"


def _update(*instructions: str) -> bytes:
    """A PROPPATCH body with these instructions, in this order."""
    return (
        '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:x">'
        + "".join(instructions)
        + "</D:propertyupdate>"
    ).encode()


def _statuses(response: Response) -> dict[str, str]:
    """Each property of a PROPPATCH's multistatus → its status line."""
    assert response.status == 207
    tree = ElementTree.fromstring(response.body)  # noqa: S314 (our own server's response, in a test)
    found: dict[str, str] = {}
    for propstat in tree.iter("{DAV:}propstat"):
        status = propstat.findtext("{DAV:}status") or ""
        props = propstat.find("{DAV:}prop")
        found.update((prop.tag, status) for prop in (props if props is not None else []))
    return found


@pytest.fixture
def dav(demo) -> DavClient:
    _token, secret = demo.token(demo.alice)
    return DavClient("alice", secret)


def _stored() -> dict[str, str]:
    return dict(DeadProperty.objects.values_list("name", "value"))


def test_a_proppatch_of_more_properties_than_the_cap_is_refused_whole(dav):
    refused = dav.request("PROPPATCH", FILE, _update(_set({f"p{index}": "x" for index in range(MAX_PER_REQUEST + 1)})))
    assert refused.status == 413
    assert f"at most {MAX_PER_REQUEST} properties" in refused.body.decode()
    assert _stored() == {}


def test_a_property_over_its_size_is_refused_with_507_and_nothing_is_set(dav):
    big = "x" * MAX_PROPERTY_SIZE
    answered = dav.request("PROPPATCH", FILE, _update(_set({"small": "ok", "big": big})))
    assert _statuses(answered) == {
        "{urn:x}small": "HTTP/1.1 424 Failed Dependency",
        "{urn:x}big": "HTTP/1.1 507 Insufficient Storage",
    }
    assert b"may take at most 16 KiB" in answered.body
    assert _stored() == {}


def test_a_property_name_longer_than_a_name_can_be_is_refused_with_507(dav):
    name = "n" * MAX_NAME_LENGTH
    answered = dav.request("PROPPATCH", FILE, _update(_set({name: "x"})))
    assert _statuses(answered) == {"{urn:x}" + name: "HTTP/1.1 507 Insufficient Storage"}
    assert _stored() == {}


def _ok(response: Response) -> bool:
    return set(_statuses(response).values()) == {"HTTP/1.1 200 OK"}


#: A value that makes a property take nearly the most one may take; the most a node holds is a few of them.
SHARE = "x" * (MAX_PROPERTY_SIZE - 100)
FULL = MAX_NODE_SIZE // MAX_PROPERTY_SIZE


@pytest.fixture
def full(dav: DavClient) -> DavClient:
    """``dav``, with ``FILE`` holding nearly all the properties it may hold: p0, p1, …"""
    for index in range(FULL):
        assert _ok(dav.request("PROPPATCH", FILE, _update(_set({f"p{index}": SHARE}))))
    return dav


def test_the_properties_of_one_node_are_capped_together(full):
    refused = full.request("PROPPATCH", FILE, _update(_set({"one-more": SHARE})))
    assert _statuses(refused) == {"{urn:x}one-more": "HTTP/1.1 507 Insufficient Storage"}
    assert b"of one file or folder may take at most 64 KiB together" in refused.body
    assert len(_stored()) == FULL


def test_replacing_a_property_takes_no_more_room_than_it_had(full):
    assert _ok(full.request("PROPPATCH", FILE, _update(_set({"p0": SHARE.upper()}))))


def test_what_a_proppatch_removes_first_makes_room_for_what_it_sets(full):
    assert _ok(full.request("PROPPATCH", FILE, _update(_remove(["p1"]), _set({"one-more": SHARE}))))
    assert "{urn:x}one-more" in _stored()


def test_a_proppatch_writes_its_properties_in_one_statement_per_kind_of_change(dav):
    assert dav.request("PROPPATCH", FILE, _update(_set({f"old{index}": "x" for index in range(40)}))).status == 207
    body = _update(_set({f"new{index}": "y" for index in range(40)}), _remove([f"old{index}" for index in range(40)]))
    with CaptureQueriesContext(connection) as queries:
        assert dav.request("PROPPATCH", FILE, body).status == 207
    writes = [query["sql"] for query in queries if "files_deadproperty" in query["sql"]]
    assert [sql.split()[0] for sql in writes if not sql.startswith("SELECT")] == ["DELETE", "INSERT"]
    assert set(_stored()) == {"{urn:x}" + f"new{index}" for index in range(40)}


def test_a_set_replaces_the_value_and_the_last_instruction_for_a_name_wins(dav):
    assert dav.request("PROPPATCH", FILE, _update(_set({"colour": "blue", "shape": "round"}))).status == 207
    assert (
        dav.request("PROPPATCH", FILE, _update(_set({"colour": "red", "shape": "square"}), _remove(["shape"]))).status
        == 207
    )
    assert _stored() == {"{urn:x}colour": '<ns0:colour xmlns:ns0="urn:x">red</ns0:colour>'}
