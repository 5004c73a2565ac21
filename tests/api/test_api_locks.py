"""WebDAV locks hold against the REST API too: an editor that LOCKed a file over WebDAV keeps a script from
changing it underneath (423), whoever the script runs as; the API cannot present a lock token."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from files import names, services
from files.locks.storage import DatabaseLockStorage
from files.models import Node
from tests.support.api_helpers import call
from tests.support.content import content_of, stored_blobs
from tests.support.dav_support import LOCK_BODY, DavClient

ALPHA = "/dav/common/projects/alpha"


@pytest.fixture
def editor(demo) -> DavClient:
    """A WebDAV client of alice's (her office suite, say)."""
    _token, secret = demo.token(demo.alice)
    return DavClient("alice", secret)


def _lock(editor: DavClient, path: str, depth: str = "0") -> str:
    locked = editor.request("LOCK", path, LOCK_BODY, depth=depth)
    assert locked.status == 200
    return locked.headers["lock-token"]


def test_a_refusal_names_whose_lock_it_is_which_application_took_it_and_until_when(client, alice, editor, readme):
    _lock(editor, f"{ALPHA}/readme.txt")  # LOCK_BODY's <D:owner> is "test"
    detail = call(client, "PUT", f"/nodes/{readme.uuid}/content", b"script", alice).json()["detail"]
    assert re.fullmatch(
        r"A WebDAV lock of alice's \(test\) holds /common/projects/alpha/readme\.txt until \d{4}-\d\d-\d\d \d\d:\d\d"
        r" UTC: it can be changed once that application closes the file, or the lock is released \(WebDAV locks,"
        r" in the console\)\.",
        detail,
    ), detail
    assert "opaquelocktoken" not in detail


def test_a_refusal_by_a_folders_lock_names_the_folder(client, alice, editor, readme):
    _lock(editor, ALPHA, depth="infinity")
    refused = call(client, "PUT", f"/nodes/{readme.parent_id}/children/other.txt", b"x", alice)
    assert refused.status_code == 423
    assert "A WebDAV lock of alice's (test) holds /common/projects/alpha until" in refused.json()["detail"]


def test_a_locked_file_cannot_be_changed_over_the_api(client, alice, editor, readme, demo):
    _lock(editor, f"{ALPHA}/readme.txt")
    before = content_of(readme)
    replaced = call(client, "PUT", f"/nodes/{readme.uuid}/content", b"script", alice)
    assert replaced.status_code == 423
    assert "WebDAV lock" in replaced.json()["detail"]
    folder = demo.node("/common/projects/alpha")
    assert call(client, "PUT", f"/nodes/{folder.uuid}/children/readme.txt", b"script", alice).status_code == 423
    assert call(client, "PATCH", f"/nodes/{readme.uuid}", {"name": "renamed.txt"}, alice).status_code == 423
    assert call(client, "DELETE", f"/nodes/{readme.uuid}", headers=alice).status_code == 423
    assert content_of(readme) == before
    # Its neighbours are free.
    data = demo.node("/common/projects/alpha/data.csv")
    assert call(client, "PUT", f"/nodes/{data.uuid}/content", b"a,b\n", alice).status_code == 200


def test_unlocked_it_can_be_changed_again(client, alice, editor, readme):
    token = _lock(editor, f"{ALPHA}/readme.txt")
    assert editor.request("UNLOCK", f"{ALPHA}/readme.txt", lock_token=token).status == 204
    assert call(client, "PUT", f"/nodes/{readme.uuid}/content", b"script", alice).status_code == 200


def test_a_folder_locked_with_depth_0_keeps_its_members_but_not_their_content(client, alice, editor, readme, demo):
    """RFC 4918 §7.5: a depth 0 lock on a folder guards its list of members."""
    _lock(editor, ALPHA, depth="0")
    folder = demo.node("/common/projects/alpha")
    assert (
        call(client, "POST", f"/nodes/{folder.uuid}/children", {"name": "new", "type": "folder"}, alice).status_code
        == 423
    )
    assert call(client, "PUT", f"/nodes/{folder.uuid}/children/new.txt", b"x", alice).status_code == 423
    assert call(client, "DELETE", f"/nodes/{readme.uuid}", headers=alice).status_code == 423
    moved_in = call(
        client, "PATCH", f"/nodes/{demo.node('/common/welcome.txt').uuid}", {"parent": str(folder.uuid)}, alice
    )
    assert moved_in.status_code == 423
    assert call(client, "PUT", f"/nodes/{readme.uuid}/content", b"content only", alice).status_code == 200
    assert not Node.objects.filter(name__in=["new", "new.txt"]).exists()


def test_a_folder_locked_with_depth_infinity_holds_everything_below(client, alice, editor, readme, demo):
    _lock(editor, "/dav/common/projects", depth="infinity")
    assert call(client, "PUT", f"/nodes/{readme.uuid}/content", b"x", alice).status_code == 423
    alpha = demo.node("/common/projects/alpha")
    assert call(client, "DELETE", f"/nodes/{alpha.uuid}", headers=alice).status_code == 423
    # Beside the locked folder its parent takes new members; deleting the locked folder itself is refused.
    common = demo.node("/common")
    assert (
        call(client, "POST", f"/nodes/{common.uuid}/children", {"name": "free", "type": "folder"}, alice).status_code
        == 201
    )
    assert call(client, "DELETE", f"/nodes/{demo.node('/common/projects').uuid}", headers=alice).status_code == 423


def test_a_lock_taken_while_an_upload_arrives_refuses_it(client, alice, readme, monkeypatch):
    """The API checks a small upload's locks where it is written; a lock granted meanwhile holds."""
    from files import uploads

    read = uploads.RequestBody.read

    def read_then_lock(self, size: int = -1, /) -> bytes:
        if not self.received:
            lock = {"principal": "someone", "owner": b"", "scope": "exclusive", "type": "write", "depth": "0"}
            DatabaseLockStorage().create("/common/projects/alpha/readme.txt", {**lock, "timeout": 600})
        return read(self, size)

    monkeypatch.setattr(uploads.RequestBody, "read", read_then_lock)
    before, blobs = content_of(readme), stored_blobs()
    assert call(client, "PUT", f"/nodes/{readme.uuid}/content", b"too late", alice).status_code == 423
    assert content_of(readme) == before
    assert stored_blobs() == blobs


def test_a_long_upload_to_a_locked_file_is_refused_before_its_body_is_read(client, alice, editor, readme, monkeypatch):
    from files import uploads

    _lock(editor, f"{ALPHA}/readme.txt")

    def unread(self, size: int = -1, /) -> bytes:
        raise AssertionError("the body was read")

    monkeypatch.setattr(uploads.RequestBody, "read", unread)
    response = call(client, "PUT", f"/nodes/{readme.uuid}/content", b"x" * (300 * 1024), alice)
    assert response.status_code == 423


def test_names_with_spaces_and_unicode_are_matched_to_their_locks(client, alice, editor, demo):
    folder = demo.node("/common/projects/alpha")
    name = "Relevé final 2026.txt"
    assert editor.put(f"{ALPHA}/{name}", b"draft").status == 201
    _lock(editor, f"{ALPHA}/{name}")
    node = demo.node(f"/common/projects/alpha/{name}")
    assert call(client, "PUT", f"/nodes/{node.uuid}/content", b"script", alice).status_code == 423
    assert call(client, "PUT", f"/nodes/{folder.uuid}/children/{name}", b"script", alice).status_code == 423


def _valid(name: str) -> bool:
    try:
        names.validate_name(name)
    except services.NodeError:
        return False
    return True


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(min_size=1, max_size=24).filter(_valid))
def test_the_api_finds_the_lock_of_any_name(demo, editor, client, alice, name):
    """The API's lock URL of a node (files.locks.write_guard.url_of) is the one WsgiDAV keys the lock by, for
    every name the tree takes (quoting, unicode, %, spaces)."""
    path = f"/dav/research/{name}"
    assert editor.put(path, b"draft").status in {201, 204}
    token = _lock(editor, path)
    node = demo.node(f"/research/{name}")
    try:
        assert call(client, "PUT", f"/nodes/{node.uuid}/content", b"script", alice).status_code == 423
    finally:
        assert editor.request("UNLOCK", path, lock_token=token).status == 204
