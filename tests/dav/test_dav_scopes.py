"""The scope rules over WebDAV methods: 404 outside, traverse-only ancestors listing just the branch,
403 for refused writes (LOCK included); every decision comes from files.rights."""

from __future__ import annotations

import pytest

from tests.support.dav_support import LOCK_BODY, PROPPATCH_BODY, DavClient

ALPHA = "/dav/common/projects/alpha"


@pytest.fixture
def scoped(demo):
    def make(perm: str) -> DavClient:
        alpha = demo.node("/common/projects/alpha")
        _token, secret = demo.token(demo.alice, scopes=[f"node:{alpha.uuid}:{perm}"])
        return DavClient("alice", secret)

    return make


def test_ancestors_list_only_the_branch_and_the_rest_does_not_exist(scoped):
    dav = scoped("r")
    assert dav.propfind("/dav/").names() == ["common"]
    assert dav.propfind("/dav/common").names() == ["projects"]
    assert dav.propfind("/dav/common/projects").names() == ["alpha"]
    assert dav.propfind(ALPHA).names() == ["data.csv", "readme.txt"]
    assert dav.propfind("/dav/common", depth="0").status == 207
    for hidden in ["/dav/research", "/dav/common/welcome.txt", "/dav/common/projects/beta", "/dav/nope"]:
        assert dav.propfind(hidden, depth="0").status == 404, hidden
        assert dav.request("GET", hidden).status == 404, hidden


def test_depth_infinity_is_refused_with_finite_depth_and_hidden_paths_stay_hidden(scoped):
    dav = scoped("rw")
    refused = dav.propfind(ALPHA, depth="infinity")
    assert refused.status == 403
    assert b"propfind-finite-depth" in refused.body
    assert dav.request("PROPFIND", ALPHA).status == 403  # no Depth header means infinity
    assert dav.propfind("/dav/common/projects/beta", depth="infinity").status == 404


def test_read_scope_reads_but_writes_nothing(scoped):
    dav = scoped("r")
    assert dav.request("GET", f"{ALPHA}/readme.txt").status == 200
    assert dav.put(f"{ALPHA}/new.txt", b"x").status == 403
    assert dav.put(f"{ALPHA}/readme.txt", b"x").status == 403
    assert dav.put("/dav/common/new.txt", b"x").status == 403  # traverse-only ancestor
    assert dav.request("MKCOL", f"{ALPHA}/sub").status == 403
    assert dav.request("DELETE", f"{ALPHA}/readme.txt").status == 403
    assert dav.request("COPY", f"{ALPHA}/readme.txt", destination=f"{ALPHA}/copy.txt").status == 403
    assert dav.request("MOVE", f"{ALPHA}/readme.txt", destination=f"{ALPHA}/moved.txt").status == 403
    assert dav.request("PROPPATCH", f"{ALPHA}/readme.txt", PROPPATCH_BODY).status == 403
    assert dav.request("LOCK", f"{ALPHA}/readme.txt", LOCK_BODY).status == 403
    assert dav.request("LOCK", f"{ALPHA}/unmapped.txt", LOCK_BODY).status == 403
    assert dav.propfind(ALPHA).names() == ["data.csv", "readme.txt"]


def test_write_scope_writes_inside_lists_but_does_not_read(scoped):
    dav = scoped("w")
    assert dav.propfind(ALPHA).names() == ["data.csv", "readme.txt"]
    assert dav.request("GET", f"{ALPHA}/readme.txt").status == 403
    assert dav.put(f"{ALPHA}/new.txt", b"new").status == 201
    assert dav.put(f"{ALPHA}/readme.txt", b"replaced").status == 204
    assert dav.request("MKCOL", f"{ALPHA}/sub").status == 201
    assert dav.request("MOVE", f"{ALPHA}/new.txt", destination=f"{ALPHA}/sub/new.txt").status == 201
    assert dav.request("COPY", f"{ALPHA}/readme.txt", destination=f"{ALPHA}/copy.txt").status == 403  # no r
    assert dav.request("PROPPATCH", f"{ALPHA}/readme.txt", PROPPATCH_BODY).status == 207
    locked = dav.request("LOCK", f"{ALPHA}/readme.txt", LOCK_BODY)
    assert locked.status == 200
    assert dav.request("UNLOCK", f"{ALPHA}/readme.txt", lock_token=locked.headers["lock-token"]).status == 204
    assert dav.request("DELETE", f"{ALPHA}/sub").status == 204
    assert dav.request("DELETE", ALPHA).status == 403  # the scoped node itself
    assert dav.request("MOVE", ALPHA, destination="/dav/common/projects/gamma").status == 403


def test_move_and_copy_with_destination_outside_the_scope(scoped, demo):
    dav = scoped("rw")
    readme = f"{ALPHA}/readme.txt"
    assert dav.request("COPY", readme, destination=f"{ALPHA}/copy.txt").status == 201
    # A destination under a traverse-only ancestor: refused.
    assert dav.request("MOVE", readme, destination="/dav/common/readme.txt").status == 403
    assert dav.request("COPY", readme, destination="/dav/common/projects/readme.txt").status == 403
    # A destination in what does not exist for the token answers as a missing parent does: 409.
    hidden = dav.request("MOVE", readme, destination="/dav/common/projects/beta/readme.txt")
    missing = dav.request("MOVE", readme, destination="/dav/common/projects/nope/readme.txt")
    assert hidden.status == missing.status == 409
    assert dav.request("COPY", readme, destination="/dav/research/readme.txt").status == 409
    assert dav.request("MOVE", f"{ALPHA}/copy.txt", destination="/dav/common/copy.txt").status == 403
    assert sorted(demo.node("/common/projects/beta").children.values_list("name", flat=True)) == ["notes.md"]
    assert dav.propfind(ALPHA).names() == ["copy.txt", "data.csv", "readme.txt"]


def test_read_grant_refuses_writes_and_locks_and_hides_other_workspaces(demo):
    _token, secret = demo.token(demo.bob)
    dav = DavClient("bob", secret)
    assert dav.propfind("/dav/").names() == ["common"]
    assert dav.request("GET", "/dav/common/welcome.txt").status == 200
    assert dav.put("/dav/common/welcome.txt", b"x").status == 403
    assert dav.request("MKCOL", "/dav/common/new").status == 403
    assert dav.request("DELETE", "/dav/common/welcome.txt").status == 403
    assert dav.request("LOCK", "/dav/common/welcome.txt", LOCK_BODY).status == 403
    assert dav.request("PROPPATCH", "/dav/common/welcome.txt", PROPPATCH_BODY).status == 403
    assert dav.propfind("/dav/research", depth="0").status == 404


def test_the_workspace_list_is_read_only(demo):
    _token, secret = demo.token(demo.alice)
    dav = DavClient("alice", secret)
    assert dav.request("MKCOL", "/dav/newspace").status == 403
    assert dav.put("/dav/file.txt", b"x").status == 403
    assert dav.request("DELETE", "/dav/common").status == 403
    assert dav.request("MOVE", "/dav/common", destination="/dav/renamed").status == 403
    assert dav.request("LOCK", "/dav/", LOCK_BODY).status == 403
    assert dav.request("PROPPATCH", "/dav/", PROPPATCH_BODY).status == 403


def test_move_across_workspaces_needs_write_on_both_sides(demo):
    _token, secret = demo.token(demo.alice)
    dav = DavClient("alice", secret)
    assert dav.request("MOVE", "/dav/research/paper.txt", destination="/dav/common/paper.txt").status == 201
    moved = demo.node("/common/paper.txt")
    assert moved.workspace == demo.common
    _token, bob_secret = demo.token(demo.bob)
    assert (
        DavClient("bob", bob_secret).request("MOVE", "/dav/common/paper.txt", destination="/dav/common/p.txt").status
        == 403
    )
