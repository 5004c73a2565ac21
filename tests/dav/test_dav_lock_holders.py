"""Releasing (UNLOCK) or refreshing (LOCK without a body) a WebDAV lock takes its owner, with write access where
the lock is rooted: a token narrowed to part of the tree, or to reading, cannot end or prolong a lock its owner
took above or over what it may write, even with the lock token in hand. The owner with its own reach releases its
lock whatever it may write now (a grant turned read-only), but does not prolong it. And the owner a LOCK names,
which comes back in every listing of the locked resource's folder, is capped."""

from __future__ import annotations

import pytest

from files.locks.storage import MAX_OWNER_SIZE
from files.models import DavLock, Grant, Node
from tests.support.dav_support import LOCK_BODY, DavClient

PROJECTS = "/dav/common/projects"
README = f"{PROJECTS}/alpha/readme.txt"


@pytest.fixture
def owner(demo) -> DavClient:
    """alice with her full reach."""
    _token, secret = demo.token(demo.alice)
    return DavClient("alice", secret)


@pytest.fixture
def projects_lock(owner: DavClient) -> str:
    """The token of alice's lock on /common/projects (Depth infinity: it holds alpha too)."""
    locked = owner.request("LOCK", PROJECTS, LOCK_BODY)
    assert locked.status == 200
    return locked.headers["lock-token"].strip("<>")


@pytest.fixture
def read_only_grant(demo) -> None:
    """alice's grant on /common, read+write when she took her lock, is now read only."""
    Grant.objects.filter(user=demo.alice, workspace=demo.common).update(level=Grant.READ)


@pytest.fixture
def alpha_token(demo):
    """alice's token narrowed to /common/projects/alpha with the permission asked."""

    def make(perm: str) -> DavClient:
        alpha = demo.node("/common/projects/alpha")
        _token, secret = demo.token(demo.alice, scopes=[f"node:{alpha.uuid}:{perm}"], label=f"alpha {perm}")
        return DavClient("alice", secret)

    return make


def _refresh(dav: DavClient, path: str, lock_token: str) -> int:
    return dav.request("LOCK", path, **{"if": f"(<{lock_token}>)", "timeout": "Second-60"}).status


@pytest.mark.parametrize("perm", ["r", "rw"])
@pytest.mark.parametrize("path", [README, PROJECTS])
def test_a_scoped_token_cannot_unlock_its_owners_lock_rooted_outside_its_scope(projects_lock, alpha_token, perm, path):
    refused = alpha_token(perm).request("UNLOCK", path, lock_token=f"<{projects_lock}>")
    assert refused.status == 403
    assert DavLock.objects.filter(token=projects_lock).exists()


def test_a_read_only_token_cannot_unlock_its_owners_lock_inside_its_scope(owner, alpha_token):
    lock_token = owner.request("LOCK", README, LOCK_BODY).headers["lock-token"]
    assert alpha_token("r").request("UNLOCK", README, lock_token=lock_token).status == 403
    assert DavLock.objects.exists()


def test_a_scoped_token_cannot_refresh_its_owners_lock_rooted_outside_its_scope(projects_lock, alpha_token):
    before = DavLock.objects.get().expire
    assert _refresh(alpha_token("rw"), README, projects_lock) == 403
    assert DavLock.objects.get().expire == before


def test_another_user_cannot_refresh_a_lock_with_its_token(demo, projects_lock):
    _token, secret = demo.token(demo.admin)  # admin may write /common too
    assert _refresh(DavClient("admin", secret), README, projects_lock) == 403


def test_the_owner_with_write_access_refreshes_and_releases_the_lock(owner, projects_lock):
    assert _refresh(owner, README, projects_lock) == 200
    assert owner.request("UNLOCK", README, lock_token=f"<{projects_lock}>").status == 204
    assert not DavLock.objects.exists()


def test_another_user_cannot_release_a_lock_with_its_token(demo, projects_lock):
    _token, secret = demo.token(demo.admin)  # admin may write /common too
    assert DavClient("admin", secret).request("UNLOCK", README, lock_token=f"<{projects_lock}>").status == 403
    assert DavLock.objects.filter(token=projects_lock).exists()


def test_the_owner_releases_its_lock_after_its_grant_became_read_only(owner, projects_lock, read_only_grant):
    assert owner.request("UNLOCK", README, lock_token=f"<{projects_lock}>").status == 204
    assert not DavLock.objects.exists()


def test_the_owner_cannot_prolong_a_lock_over_what_it_may_no_longer_write(owner, projects_lock, read_only_grant):
    before = DavLock.objects.get().expire
    assert _refresh(owner, README, projects_lock) == 403
    assert DavLock.objects.get().expire == before


def test_a_scoped_token_releases_a_lock_it_took_inside_its_scope(alpha_token):
    dav = alpha_token("w")
    lock_token = dav.request("LOCK", README, LOCK_BODY).headers["lock-token"]
    assert dav.request("UNLOCK", README, lock_token=lock_token).status == 204


def test_a_lock_whose_owner_is_over_the_cap_is_refused_and_leaves_nothing(owner):
    body = LOCK_BODY.replace(b"<D:owner>test</D:owner>", b"<D:owner>" + b"x" * MAX_OWNER_SIZE + b"</D:owner>")
    refused = owner.request("LOCK", f"{PROJECTS}/unmapped.txt", body)
    assert refused.status == 400
    assert "A lock's owner may take at most 4 KiB." in refused.body.decode()
    assert not DavLock.objects.exists()
    assert not Node.objects.filter(name="unmapped.txt").exists()
