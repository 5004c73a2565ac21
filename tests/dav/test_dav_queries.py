"""A Depth 1 PROPFIND costs the same few queries whatever the number of children (dead properties and locks
included)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from files import services
from files.models import DeadProperty, Node
from tests.support.content import fill_folder
from tests.support.dav_support import LOCK_BODY, PROPPATCH_BODY, DavClient


def _propfind_queries(dav: DavClient, path: str, expected_members: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = dav.propfind(path)  # no body: allprop, with lockdiscovery and dead properties
    assert response.status == 207
    assert len(response.hrefs()) == expected_members + 1
    return len(queries)


@pytest.mark.parametrize("scoped", [False, True])
def test_depth_1_propfind_costs_a_constant_number_of_queries(demo, scoped):
    research = demo.node("/research")
    small = services.create_folder(parent=research, name="small")
    large = services.create_folder(parent=research, name="large")
    fill_folder(small, 10)
    fill_folder(large, 1000)
    scopes = [f"node:{research.uuid}:rw"] if scoped else []
    _token, secret = demo.token(demo.alice, scopes=scopes)
    dav = DavClient("alice", secret)
    # Dead properties and locks on some members, served from the prefetched rows.
    for folder in ("small", "large"):
        path = f"/dav/research/{folder}/file-0001.txt"
        assert dav.request("LOCK", path, LOCK_BODY).status == 200
    DeadProperty.objects.bulk_create(
        DeadProperty(node=node, name="{urn:x}colour", value='<ns0:colour xmlns:ns0="urn:x">blue</ns0:colour>')
        for node in Node.objects.filter(name="file-0002.txt")
    )
    dav.propfind("/dav/research", depth="0")  # the token's throttled last-use write happens here

    few = _propfind_queries(dav, "/dav/research/small", 10)
    many = _propfind_queries(dav, "/dav/research/large", 1000)
    assert few == many
    # token, the folder with the grant on its workspace, (scope nodes), the children, their and the folder's dead
    # properties, the locks
    assert many == (6 if scoped else 5)
    body = dav.propfind("/dav/research/large").body
    assert body.count(b"opaquelocktoken") == 1
    assert body.count(b">blue<") == 1


def _queries(dav: DavClient, method: str, path: str, body: bytes = b"", **headers: str) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        status = dav.request(method, path, body, **headers).status
    return status, [query["sql"] for query in queries.captured_queries]


@pytest.fixture
def uploader(demo):
    """An rclone-like client after its first request (the token's throttled last-use write is done)."""
    _token, secret = demo.token(demo.alice)
    dav = DavClient("alice", secret)
    assert dav.request("MKCOL", "/dav/common/up").status == 201
    return dav


def test_mkcol_on_an_existing_folder_costs_two_queries(uploader):
    status, queries = _queries(uploader, "MKCOL", "/dav/common/up")
    # token; the folder, its parent and the grant on their workspace, in one query
    assert (status, len(queries)) == (405, 2)
    assert not any(query.startswith("SELECT workspace_id, level FROM files_grant") for query in queries)


def test_put_of_a_new_small_file_costs_three_queries(uploader):
    status, queries = _queries(uploader, "PUT", "/dav/common/up/new.bin", b"x" * 1024)
    # token, the file and its folder with the grant; then the INSERT, which reads the locks itself where the
    # write takes place (PostgreSQL: in a transaction, after the advisory lock that orders the write against LOCK
    # requests; here a savepoint inside the test's transaction)
    assert status == 201
    if connection.vendor == "postgresql":
        kinds = ["SELECT", "SELECT", "SAVEPOINT", "SELECT", "INSERT", "RELEASE"]
        assert "pg_advisory_xact_lock_shared" in queries[3]
    else:
        kinds = ["SELECT", "SELECT", "INSERT"]
    assert [query.split()[0] for query in queries] == kinds
    assert "files_davlock" in next(query for query in queries if query.startswith("INSERT"))


def test_a_put_over_an_existing_file_goes_straight_to_the_replacement(uploader):
    assert uploader.put("/dav/common/up/new.bin", b"x" * 1024).status == 201
    status, queries = _queries(uploader, "PUT", "/dav/common/up/new.bin", b"y" * 1024)
    # token, the file and its folder with the grant; then, in one transaction, the file's row (locked on
    # PostgreSQL), the locks, the UPDATE: no INSERT tried first for a name WsgiDAV found taken
    assert status == 204
    assert not any(query.startswith("INSERT") for query in queries), queries
    assert sum(query.startswith("UPDATE") for query in queries) == 1
    if connection.vendor != "postgresql":
        assert [query.split()[0] for query in queries] == [
            "SELECT", "SELECT", "SAVEPOINT", "SELECT", "SELECT", "UPDATE", "RELEASE"
        ]  # fmt: skip


def test_propfind_depth_0_of_a_file_costs_four_queries(uploader):
    assert uploader.put("/dav/common/up/new.bin", b"x" * 1024).status == 201
    status, queries = _queries(uploader, "PROPFIND", "/dav/common/up/new.bin", depth="0")
    # token, the file with the grant, its dead properties, the locks over it
    assert (status, len(queries)) == (207, 4)


# What rclone asks for after every upload: live properties only, so no dead properties and no locks to read.
RCLONE_PROPFIND = (
    b'<?xml version="1.0"?>\n<d:propfind xmlns:d="DAV:">\n <d:prop>\n  <d:displayname/>\n  <d:getlastmodified/>\n'
    b"  <d:getcontentlength/>\n  <d:resourcetype/>\n </d:prop>\n</d:propfind>\n"
)


def test_rclones_propfind_after_an_upload_costs_two_queries(uploader):
    assert uploader.put("/dav/common/up/new.bin", b"x" * 1024).status == 201
    status, queries = _queries(uploader, "PROPFIND", "/dav/common/up/new.bin", RCLONE_PROPFIND, depth="0")
    # token, the file with the grant
    assert (status, len(queries)) == (207, 2)
    assert not any("files_deadproperty" in query or "files_davlock" in query for query in queries)


@pytest.mark.parametrize(
    ("asked", "reads"),
    [("<d:lockdiscovery/>", "files_davlock"), ('<z:colour xmlns:z="urn:z"/>', "files_deadproperty")],
    ids=["lockdiscovery", "a dead property"],
)
def test_a_propfind_reads_locks_or_dead_properties_when_it_asks_for_them(uploader, asked, reads):
    body = RCLONE_PROPFIND.replace(b"<d:resourcetype/>", asked.encode())
    status, queries = _queries(uploader, "PROPFIND", "/dav/common/up", body, depth="1")
    assert status == 207
    assert [query for query in queries if reads in query]


def test_a_proppatch_checks_its_locks_and_writes_in_one_transaction(uploader):
    assert uploader.put("/dav/common/up/new.bin", b"x").status == 201
    status, queries = _queries(uploader, "PROPPATCH", "/dav/common/up/new.bin", PROPPATCH_BODY)
    assert status == 207
    begin = next(index for index, query in enumerate(queries) if query.startswith("SAVEPOINT"))
    lock_read = next(index for index, query in enumerate(queries) if "files_davlock" in query)
    write = next(index for index, query in enumerate(queries) if "files_deadproperty" in query and "INSERT" in query)
    end = max(index for index, query in enumerate(queries) if query.startswith("RELEASE SAVEPOINT"))
    assert begin < lock_read < write < end
    if connection.vendor == "postgresql":
        assert "pg_advisory_xact_lock_shared" in queries[begin + 1]
