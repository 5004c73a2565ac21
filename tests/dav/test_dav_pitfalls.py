"""The pitfalls met when this stack was evaluated, each pinned down (issue #4)."""

from __future__ import annotations

import io

import pytest

from dav.resources import FolderResource
from files import services
from files.models import DavLock, Node
from tests.support.dav_support import LOCK_BODY, DavClient
from tests.support.demo import DEMO_PASSWORD

ALPHA = "/dav/common/projects/alpha"


def _content(node: Node) -> bytes:
    with services.open_content(node) as handle:
        return handle.read()


def test_delete_of_an_ancestor_of_a_writable_scope_is_refused_before_anything_goes(demo):
    alpha = demo.node("/common/projects/alpha")
    _token, secret = demo.token(demo.alice, scopes=[f"node:{alpha.uuid}:rw"])
    dav = DavClient("alice", secret)
    before = Node.objects.count()
    assert dav.request("DELETE", "/dav/common/projects").status == 403
    assert dav.request("DELETE", "/dav/common").status == 403
    assert Node.objects.count() == before


def test_delete_still_honours_locks_below_the_target(demo):
    _token, secret = demo.token(demo.alice)
    dav = DavClient("alice", secret)
    lock = dav.request("LOCK", f"{ALPHA}/readme.txt", LOCK_BODY, depth="0")
    assert lock.status == 200
    before = Node.objects.count()
    assert dav.request("DELETE", ALPHA).status == 423
    assert Node.objects.count() == before
    submitted = dav.request("DELETE", ALPHA, **{"if": f"<{ALPHA}/readme.txt> ({lock.headers['lock-token']})"})
    assert submitted.status == 204
    assert not Node.objects.filter(name="alpha").exists()
    assert not DavLock.objects.exists()


def test_a_scope_whose_node_is_gone_grants_nothing(demo):
    alpha = demo.node("/common/projects/alpha")
    _token, secret = demo.token(demo.alice, scopes=[f"node:{alpha.uuid}:rw"])
    dav = DavClient("alice", secret)
    assert dav.propfind("/dav/").names() == ["common"]
    services.delete(alpha)
    assert dav.propfind("/dav/").names() == []
    assert dav.propfind("/dav/common", depth="0").status == 404
    assert dav.propfind("/dav/research", depth="0").status == 404


def test_copy_over_an_existing_file_overwrites_it(demo):
    _token, secret = demo.token(demo.alice)
    dav = DavClient("alice", secret)
    assert dav.put("/dav/research/a.txt", b"one").status == 201
    assert dav.put("/dav/research/b.txt", b"two").status == 201
    target = demo.node("/research/b.txt")
    assert dav.request("COPY", "/dav/research/a.txt", destination="/dav/research/b.txt").status == 204
    assert dav.request("GET", "/dav/research/b.txt").body == b"one"
    assert demo.node("/research/b.txt").uuid == target.uuid  # replaced in place, not deleted and re-created
    assert dav.request("COPY", "/dav/research/a.txt", destination="/dav/research/b.txt", overwrite="F").status == 412


def test_copy_of_a_folder_over_an_existing_folder_replaces_it(demo):
    _token, secret = demo.token(demo.alice)
    dav = DavClient("alice", secret)
    assert dav.request("COPY", ALPHA, destination="/dav/common/projects/beta").status == 204
    assert dav.propfind("/dav/common/projects/beta").names() == ["data.csv", "readme.txt"]


def test_the_lock_owner_is_the_authenticated_user_not_the_typed_login(demo):
    _token, secret = demo.token(demo.alice)
    locked = DavClient("ALICE", secret).request("LOCK", f"{ALPHA}/readme.txt", LOCK_BODY)
    assert locked.status == 200
    lock_token = locked.headers["lock-token"]
    assert DavLock.objects.get().principal == str(demo.alice.uuid)
    condition = {"if": f"({lock_token})"}
    # The same user, spelled differently and with the password instead of the token: the lock is theirs.
    assert DavClient("alice", DEMO_PASSWORD).put(f"{ALPHA}/readme.txt", b"mine", **condition).status == 204
    # Another user holding the stolen lock token is not the owner.
    _admin_token, admin_secret = demo.token(demo.admin)
    admin = DavClient("admin", admin_secret)
    assert admin.put(f"{ALPHA}/readme.txt", b"theirs", **condition).status in {412, 423}
    assert admin.request("UNLOCK", f"{ALPHA}/readme.txt", lock_token=lock_token).status == 403
    assert _content(demo.node("/common/projects/alpha/readme.txt")) == b"mine"


def test_a_refused_upload_leaves_the_previous_content_and_no_new_node(demo, settings):
    settings.MAX_UPLOAD_SIZE = 10
    _token, secret = demo.token(demo.alice)
    dav = DavClient("alice", secret)
    assert dav.put("/dav/research/big.bin", b"x" * 11).status == 413
    assert not Node.objects.filter(name="big.bin").exists()
    # Without a Content-Length the limit is enforced while streaming.
    assert dav.put("/dav/research/big.bin", b"x" * 11, content_length="").status == 413
    assert not Node.objects.filter(name="big.bin").exists()
    before = _content(demo.node("/research/paper.txt"))
    assert dav.put("/dav/research/paper.txt", b"y" * 11, content_length="").status == 413
    assert _content(demo.node("/research/paper.txt")) == before


def test_an_upload_cut_short_leaves_no_node(demo):
    class Broken(io.BytesIO):
        def read(self, size: int = -1) -> bytes:
            if self.tell():
                raise ConnectionResetError("client went away")
            return super().read(4)

    _token, secret = demo.token(demo.alice)
    dav = DavClient("alice", secret)
    environ_body = Broken(b"0123456789")
    response = dav.request("PUT", "/dav/research/cut.txt", b"", content_length="10", wsgi_input=environ_body)
    assert response.status >= 400
    assert not Node.objects.filter(name="cut.txt").exists()


def test_a_failed_lock_on_an_unmapped_url_leaves_no_empty_file(demo):
    _token, secret = demo.token(demo.alice)
    dav = DavClient("alice", secret)
    assert dav.request("LOCK", ALPHA, LOCK_BODY).status == 200  # depth infinity on the folder
    _admin_token, admin_secret = demo.token(demo.admin)
    refused = DavClient("admin", admin_secret).request("LOCK", f"{ALPHA}/new.txt", LOCK_BODY)
    assert refused.status == 423
    assert not Node.objects.filter(name="new.txt").exists()


def test_dead_properties_follow_a_move_and_go_with_a_delete(demo):
    _token, secret = demo.token(demo.alice)
    dav = DavClient("alice", secret)
    body = (
        b'<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:x"><D:set><D:prop>'
        b"<Z:colour>blue</Z:colour></D:prop></D:set></D:propertyupdate>"
    )
    assert dav.request("PROPPATCH", "/dav/research/paper.txt", body).status == 207
    assert dav.request("MOVE", "/dav/research/paper.txt", destination="/dav/research/moved.txt").status == 201
    ask = b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><Z:colour xmlns:Z="urn:x"/></D:prop></D:propfind>'
    assert b"blue" in dav.propfind("/dav/research/moved.txt", depth="0", body=ask).body
    assert dav.request("DELETE", "/dav/research/moved.txt").status == 204
    from files.models import DeadProperty

    assert not DeadProperty.objects.exists()


def test_a_move_over_an_existing_file_replaces_it(demo):
    _token, secret = demo.token(demo.alice)
    dav = DavClient("alice", secret)
    assert dav.put("/dav/research/a.txt", b"one").status == 201
    assert dav.put("/dav/research/b.txt", b"two").status == 201
    assert dav.request("MOVE", "/dav/research/a.txt", destination="/dav/research/b.txt").status == 204
    assert dav.request("GET", "/dav/research/b.txt").body == b"one"
    assert dav.request("GET", "/dav/research/a.txt").status == 404
    assert dav.request("MOVE", ALPHA, destination="/dav/common/projects/beta").status == 204
    assert dav.propfind("/dav/common/projects/beta").names() == ["data.csv", "readme.txt"]


def test_a_move_that_fails_over_an_existing_destination_keeps_both(demo, monkeypatch):
    """WsgiDAV deletes an existing destination before it moves; here both happen in one transaction."""
    _token, secret = demo.token(demo.alice)
    dav = DavClient("alice", secret)
    assert dav.put("/dav/research/a.txt", b"one").status == 201
    assert dav.put("/dav/research/b.txt", b"two").status == 201

    def broken_move(**kwargs: object) -> Node:
        raise services.NodeError("The move failed.")

    monkeypatch.setattr(services, "move", broken_move)
    assert dav.request("MOVE", "/dav/research/a.txt", destination="/dav/research/b.txt").status == 400
    assert dav.request("GET", "/dav/research/b.txt").body == b"two"
    assert dav.request("GET", "/dav/research/a.txt").body == b"one"


def test_a_move_onto_a_folder_that_holds_the_source_is_refused(demo):
    _token, secret = demo.token(demo.alice)
    dav = DavClient("alice", secret)
    response = dav.request("MOVE", f"{ALPHA}/data.csv", destination="/dav/common/projects")
    assert response.status == 403
    assert dav.propfind(ALPHA).names() == ["data.csv", "readme.txt"]


def test_a_move_over_a_locked_destination_takes_its_lock_away(demo):
    _token, secret = demo.token(demo.alice)
    dav = DavClient("alice", secret)
    assert dav.put("/dav/research/a.txt", b"one").status == 201
    locked = dav.request("LOCK", "/dav/research/b.txt", LOCK_BODY)
    assert locked.status in (200, 201)
    token = locked.headers["lock-token"]
    tagged = f"<http://testserver/dav/research/b.txt> ({token})"
    moved = dav.request("MOVE", "/dav/research/a.txt", destination="/dav/research/b.txt", **{"if": tagged})
    assert moved.status == 204
    assert not DavLock.objects.exists()
    assert dav.request("GET", "/dav/research/b.txt").body == b"one"


def test_a_top_level_name_of_white_space_is_an_ordinary_missing_workspace(demo):
    """/dav/%20 arrives as PATH_INFO "/ ", which WsgiDAV's own get_uri_parent takes for the root (a 500 once)."""
    _token, secret = demo.token(demo.alice)
    dav = DavClient("alice", secret)
    for method in ("GET", "HEAD", "PROPFIND", "DELETE", "MKCOL", "PUT", "LOCK", "MOVE", "COPY"):
        status = dav.request(method, "/dav/ ", destination="/dav/common/x").status
        assert status in (400, 403, 404, 409), (method, status)
    assert dav.request("PUT", "/dav/common/ ", b"x").status == 400  # no name starts or ends with white space


@pytest.mark.parametrize("kind", ["folder", "file"])
def test_mkcol_of_a_name_taken_meanwhile_is_405_as_for_one_taken_before(demo, monkeypatch, kind):
    """rclone's parallel transfers each send MKCOL for the folder they upload into: all but the first find it
    taken, some only after WsgiDAV looked (they used to get 409, which says the parent is missing)."""
    _token, secret = demo.token(demo.alice)
    dav = DavClient("alice", secret)
    require_writable = FolderResource.require_writable

    def another_request_first(self: FolderResource) -> None:  # once WsgiDAV has found nothing there
        require_writable(self)
        if kind == "folder":
            services.create_folder(parent=self.node, name="incoming")
        else:
            services.write_file(parent=self.node, name="incoming", stream=io.BytesIO(b"x"))

    monkeypatch.setattr(FolderResource, "require_writable", another_request_first)
    response = dav.request("MKCOL", "/dav/research/incoming")
    assert response.status == 405
    assert b"already exists" in response.body
    assert demo.node("/research/incoming").type == (Node.FOLDER if kind == "folder" else Node.FILE)
