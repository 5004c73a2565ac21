"""Paths that differ only in case (or in Unicode normalisation) are different nodes everywhere: selecting a
subtree by its path prefix never reaches into a twin's, on SQLite (whose LIKE ignores ASCII case) as on
PostgreSQL. Each operation that selects by prefix is tried: move, rename, copy, delete, locks, listings, over
the services, WebDAV and the REST API."""

from __future__ import annotations

import io
import time

import pytest
from django.test import Client

from files import copies, paths, services
from files.locks import held_locks
from files.models import DavLock, Node
from tests.support.api_helpers import bearer, call
from tests.support.content import content_of
from tests.support.dav_support import DavClient
from tests.support.tree_support import build, snapshot

ALPHA = "/dav/common/projects/alpha"


@pytest.fixture
def twins(demo):
    """``/common/Projects/alpha/hr/salaries.txt`` and ``/common/projects/ALPHA/tmp/x.txt`` beside the demo's
    ``/common/projects/alpha``."""
    common = demo.node("/common")
    upper = services.create_folder(parent=common, name="Projects")
    alpha = services.create_folder(parent=upper, name="alpha")
    hr = services.create_folder(parent=alpha, name="hr")
    services.write_file(parent=hr, name="salaries.txt", stream=io.BytesIO(b"secret"))
    shouting = services.create_folder(parent=demo.node("/common/projects"), name="ALPHA")
    tmp = services.create_folder(parent=shouting, name="tmp")
    services.write_file(parent=tmp, name="x.txt", stream=io.BytesIO(b"keep me"))
    return common


@pytest.fixture
def scoped(demo, twins) -> DavClient:
    alpha = demo.node("/common/projects/alpha")
    _token, secret = demo.token(demo.alice, scopes=[f"node:{alpha.uuid}:rw"])
    return DavClient("alice", secret)


def _unchanged_outside(before, after, *changed: str) -> list[str]:
    """The paths of nodes outside ``changed`` (public paths' in-workspace part) that differ."""
    return [
        seen.path
        for key, seen in before.items()
        if not any(seen.path == top or seen.path.startswith(top + "/") for top in changed) and after.get(key) != seen
    ]


def test_the_exact_prefix_lookup_ignores_no_case(demo, twins):
    found = Node.objects.filter(workspace=demo.common, path__startswith_exactly="/projects/alpha/")
    assert {node.path for node in found} == {"/projects/alpha/readme.txt", "/projects/alpha/data.csv"}


@pytest.mark.parametrize("special", ["a*", "a?", "[a]", "a%", "a_", "[!a]"])
def test_the_exact_prefix_lookup_takes_wildcards_literally(demo, special):
    common = demo.node("/common")
    build(common, [special, "ab", "a", "[a]x"])
    found = Node.objects.filter(workspace=demo.common, path__startswith_exactly=f"/{special}/")
    assert {node.path for node in found} == {f"/{special}/f"}


def test_a_scoped_move_of_a_case_twin_folder_reads_nothing_outside_the_scope(demo, twins, scoped):
    assert scoped.request("MKCOL", f"{ALPHA}/hr").status == 201
    assert scoped.request("MOVE", f"{ALPHA}/hr", destination=f"{ALPHA}/loot").status == 201
    assert scoped.request("GET", f"{ALPHA}/loot/salaries.txt").status == 404
    assert content_of(demo.node("/common/Projects/alpha/hr/salaries.txt")) == b"secret"


def test_a_rename_leaves_a_case_twin_alone(demo):
    common = demo.node("/common")
    build(common, ["docs/a", "Docs/b"])
    before = snapshot(demo.common.pk)
    services.move(node=demo.node("/common/docs"), parent=common, name="papers")
    after = snapshot(demo.common.pk)
    assert _unchanged_outside(before, after, "/docs") == []
    assert demo.node("/common/Docs/b/f").path == "/Docs/b/f"
    assert content_of(demo.node("/common/papers/a/f")) == b"docs/a"


def test_a_delete_leaves_a_case_twins_contents(demo, twins, scoped, django_capture_on_commit_callbacks):
    assert scoped.request("MKCOL", f"{ALPHA}/tmp").status == 201
    assert scoped.put(f"{ALPHA}/tmp/mine.txt", b"mine").status == 201
    with django_capture_on_commit_callbacks(execute=True):
        assert scoped.request("DELETE", f"{ALPHA}/tmp").status == 204
    assert content_of(demo.node("/common/projects/ALPHA/tmp/x.txt")) == b"keep me"


def test_a_copy_of_a_folder_with_a_case_twin_copies_its_own_tree(demo, twins, scoped):
    assert scoped.request("MKCOL", f"{ALPHA}/hr").status == 201
    assert scoped.put(f"{ALPHA}/hr/mine.txt", b"mine").status == 201
    assert scoped.request("COPY", f"{ALPHA}/hr", destination=f"{ALPHA}/hr2").status == 201
    assert scoped.propfind(f"{ALPHA}/hr2").names() == ["mine.txt"]


def test_a_copy_service_copies_no_twin(demo):
    common = demo.node("/common")
    build(common, ["docs/a", "Docs/b"])
    copies.copy(node=demo.node("/common/docs"), parent=common, name="docs2")
    names = Node.objects.filter(workspace=demo.common, path__startswith_exactly="/docs2/")
    assert {node.path for node in names} == {"/docs2/a", "/docs2/a/f"}


def test_a_rest_move_of_a_case_twin_folder_reads_nothing_outside_the_scope(demo, twins, client: Client):
    alpha = demo.node("/common/projects/alpha")
    _token, secret = demo.token(demo.alice, scopes=[f"node:{alpha.uuid}:rw"])
    headers = bearer(secret)
    created = call(client, "POST", f"/nodes/{alpha.uuid}/children", {"name": "hr", "type": "folder"}, headers)
    assert created.status_code == 201
    moved = call(client, "PATCH", f"/nodes/{created.json()['uuid']}", {"name": "loot"}, headers)
    assert moved.status_code == 200
    listed = call(client, "GET", f"/nodes/{created.json()['uuid']}/children", headers=headers)
    assert listed.json() == []
    assert paths.resolve_path("/common/Projects/alpha/hr/salaries.txt") is not None


def test_held_locks_below_a_path_leave_out_a_case_twins(demo):
    build(demo.node("/common"), ["docs", "Docs"])
    for root in ["/common/docs/f", "/common/Docs/f"]:
        DavLock.objects.create(
            token=f"opaquelocktoken:{root}",
            root=root,
            principal=str(demo.alice.uuid),
            scope="exclusive",
            depth="0",
            timeout=600,
            expire=time.time() + 600,
        )
    assert [lock.root for lock in held_locks.held(path="/common/docs")] == ["/common/docs/f"]


def test_a_lock_on_a_folder_does_not_hold_its_case_twin(demo):
    build(demo.node("/common"), ["docs", "Docs"])
    _token, secret = demo.token(demo.alice)
    dav = DavClient("alice", secret)
    body = (
        b'<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>'
        b"<D:locktype><D:write/></D:locktype><D:owner>test</D:owner></D:lockinfo>"
    )
    assert dav.request("LOCK", "/dav/common/docs", body, depth="infinity").status == 200
    assert dav.put("/dav/common/Docs/new.txt", b"free").status == 201
    assert dav.put("/dav/common/docs/new.txt", b"held").status == 423


def test_a_scoped_listing_shows_no_case_twin(demo, twins, scoped):
    assert scoped.propfind("/dav/common").names() == ["projects"]
    assert scoped.propfind("/dav/common/projects").names() == ["alpha"]
    assert scoped.propfind("/dav/common/projects/ALPHA", depth="0").status == 404
    assert scoped.propfind("/dav/common/Projects/alpha", depth="0").status == 404


def test_unicode_normalisation_twins_are_different_nodes(demo, scoped, django_capture_on_commit_callbacks):
    composed, decomposed = "caf\u00e9", "cafe\u0301"
    alpha = demo.node("/common/projects/alpha")
    build(demo.node("/common/projects"), [decomposed])
    build(alpha, [composed])
    with django_capture_on_commit_callbacks(execute=True):
        assert scoped.request("DELETE", f"{ALPHA}/{composed}").status == 204
    assert content_of(demo.node(f"/common/projects/{decomposed}/f")) == decomposed.encode()
    assert scoped.request("GET", f"/dav/common/projects/{decomposed}/f").status == 404
