"""files.locks.storage.DatabaseLockManager finds the same write conflicts as WsgiDAV's LockManager, with one query
per check instead of one per path level."""

from __future__ import annotations

import itertools
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from wsgidav.dav_error import DAVError
from wsgidav.lock_man.lock_manager import LockManager

from files.locks.ordering import check_still_writable, no_lock_against_new
from files.locks.storage import DatabaseLockManager, DatabaseLockStorage
from files.models import DavLock, Node
from tests.support.dav_support import LOCK_BODY, DavClient
from tests.support.races import before_the_write_reads_its_locks, lock_elsewhere

ME, OTHER = "me", "other"
# Quoted URLs, as WsgiDAV keys locks: "%" and "_" must not act as LIKE wildcards.
ROOTS = ["/ws/", "/ws/a/", "/ws/a/b/", "/ws/a/b/c.txt", "/ws/a/bc/", "/ws/z/", "/ws/aXb/c.txt", "/ws/a%25b/c.txt"]
TARGETS = ["/ws/a/b/c.txt", "/ws/a/b/", "/ws/a/", "/ws/a/b/new.txt", "/ws/a_b/", "/ws/a%b/", "/ws/a%25b/"]


def _lock(manager: LockManager, root: str, *, principal: str, depth: str, scope: str = "exclusive") -> str:
    lock = manager.acquire(
        url=root,
        lock_type="write",
        lock_scope=scope,
        lock_depth=depth,
        lock_owner=b"",
        timeout=60,
        principal=principal,
        token_list=[],
    )
    return str(lock["token"])


def _conflicts(manager: LockManager, url: str, depth: str, tokens: list[str]) -> list[str]:
    return sorted(manager._get_write_conflicts(url, depth, tokens, ME).hrefs)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("root", "lock_depth", "principal"), list(itertools.product(ROOTS, ["0", "infinity"], [ME, OTHER]))
)
def test_conflicts_are_wsgidavs(root, lock_depth, principal):
    storage = DatabaseLockStorage()
    ours, theirs = DatabaseLockManager(storage), LockManager(storage)
    token = _lock(ours, root, principal=principal, depth=lock_depth)
    for url, depth, tokens in itertools.product(TARGETS, ["0", "infinity"], [[], [token]]):
        assert _conflicts(ours, url, depth, tokens) == _conflicts(theirs, url, depth, tokens), (url, depth, tokens)


def test_a_put_checks_locks_with_one_query(demo):
    _token, secret = demo.token(demo.alice)
    dav = DavClient("alice", secret)
    assert dav.request("MKCOL", "/dav/research/a").status == 201
    assert dav.request("MKCOL", "/dav/research/a/b").status == 201
    assert dav.request("LOCK", "/dav/research/a", LOCK_BODY, depth="0").status == 200  # depth 0: no conflict
    with CaptureQueriesContext(connection) as queries:
        assert dav.put("/dav/research/a/b/new.txt", b"x").status == 201
    lock_queries = [query for query in queries.captured_queries if "files_davlock" in query["sql"]]
    # WsgiDAV checks the folder and the file; one read of the locks over the folder answers both.
    assert len(lock_queries) == 1


@pytest.mark.parametrize(
    ("locked", "depth"), [("/dav/common/a/b/f.txt", "0"), ("/dav/common/a/b", "0"), ("/dav/common/a", "infinity")]
)
def test_a_put_under_someone_elses_lock_is_refused(demo, locked, depth):
    _token, admin_secret = demo.token(demo.admin)
    _token, alice_secret = demo.token(demo.alice)
    admin, alice = DavClient("admin", admin_secret), DavClient("alice", alice_secret)
    assert alice.request("MKCOL", "/dav/common/a").status == 201
    assert alice.request("MKCOL", "/dav/common/a/b").status == 201
    assert alice.put("/dav/common/a/b/f.txt", b"first").status == 201
    assert admin.request("LOCK", locked, LOCK_BODY, depth=depth).status == 200
    # A depth 0 lock on a folder guards its list of members, not their content (RFC 4918 §7.5).
    assert alice.put("/dav/common/a/b/f.txt", b"second").status == (204 if locked.endswith("/b") else 423)
    assert alice.put("/dav/common/a/b/new.txt", b"x").status == (201 if locked.endswith("f.txt") else 423)
    assert admin.put("/dav/common/a/b/new2.txt", b"without the token").status == (
        201 if locked.endswith("f.txt") else 423
    )


@pytest.mark.parametrize(
    ("locked", "destination"),
    [
        ("/common/projects/alpha/readme.txt", "/dav/research/alpha"),  # something inside the source
        ("/research", "/dav/research/alpha"),  # the destination's folder, a new member
        ("/common/projects/beta", "/dav/common/projects/beta"),  # the destination it would replace
    ],
)
def test_a_lock_taken_after_wsgidavs_checks_still_refuses_the_move(demo, monkeypatch, locked, destination):
    """Another process locks while the MOVE is under way (after WsgiDAV has checked): the move reads the
    locks again in its own transaction."""
    before_the_write_reads_its_locks(monkeypatch, lock_elsewhere(locked))
    _token, secret = demo.token(demo.alice)
    dav = DavClient("alice", secret)
    assert dav.request("MOVE", "/dav/common/projects/alpha", destination=destination).status == 423
    assert demo.node("/common/projects/alpha/readme.txt") is not None
    assert demo.node("/common/projects/beta/notes.md") is not None


def test_a_lock_taken_after_wsgidavs_checks_still_refuses_a_new_folder(demo, monkeypatch):
    before_the_write_reads_its_locks(monkeypatch, lock_elsewhere("/research", depth="0"))
    _token, secret = demo.token(demo.alice)
    assert DavClient("alice", secret).request("MKCOL", "/dav/research/new").status == 423
    assert not Node.objects.filter(name="new").exists()


# (a new member's URL, its folder): as the INSERT of an upload asks them.
NEW_MEMBERS = [
    ("/ws/a/b/new.txt", "/ws/a/b/"),
    ("/ws/a/b/c.txt", "/ws/a/b/"),
    ("/ws/a/new/", "/ws/a/"),
    ("/ws/new.txt", "/ws/"),
    ("/ws/a%25b/c.txt", "/ws/a%25b/"),
    ("/ws/a_b/c.txt", "/ws/a_b/"),
]


def _holds(condition) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {condition.sql}", condition.params)
        return bool(cursor.fetchone()[0])


def _check_passes(manager: DatabaseLockManager, url: str, folder: str) -> bool:
    try:
        check_still_writable(manager, url=url, new_in=folder, token_list=[], principal=ME)
    except DAVError:
        return False
    return True


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("root", "lock_depth", "principal"),
    [(None, "0", ME), *itertools.product(ROOTS, ["0", "infinity"], [ME, OTHER])],
)
def test_an_upload_inserts_in_one_statement_exactly_where_the_lock_check_would_let_it(root, lock_depth, principal):
    """The condition a new file's INSERT states (``no_lock_against_new``) holds where ``check_still_writable``
    lets a write through that submits no token, and nowhere else: never a file in under a lock."""
    manager = DatabaseLockManager(DatabaseLockStorage())
    if root is not None:
        _lock(manager, root, principal=principal, depth=lock_depth)
    for url, folder in NEW_MEMBERS:
        condition = no_lock_against_new(url, folder=folder)
        assert condition is not None
        assert _holds(condition) == _check_passes(manager, url, folder), (root, lock_depth, url)


@pytest.mark.django_db
def test_an_expired_lock_does_not_hold_against_a_new_file(monkeypatch):
    manager = DatabaseLockManager(DatabaseLockStorage())
    _lock(manager, "/ws/a/b/", principal=OTHER, depth="infinity")
    condition = no_lock_against_new("/ws/a/b/new.txt", folder="/ws/a/b/")
    assert condition is not None and not _holds(condition)
    DavLock.objects.update(expire=time.time() - 1)
    assert _holds(no_lock_against_new("/ws/a/b/new.txt", folder="/ws/a/b/"))
