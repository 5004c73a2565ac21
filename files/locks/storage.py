"""WebDAV locks in the database, so that every worker process sees the same locks.

:class:`DatabaseLockStorage` implements the storage interface that WsgiDAV's ``LockManager`` drives (the one
``LockStorageDict`` and ``LockStorageRedis`` implement). The manager checks for conflicts and then creates a
lock in two steps, guarded only by an in-process lock; ``files.locks.ordering.serialized`` makes the whole LOCK
request one transaction that no other process can interleave with.

A PROPFIND asks for every member's ``lockdiscovery``: inside :func:`snapshot`, the locks of the requested
URL's ancestors and subtree are read in one query and answered from memory.

:class:`DatabaseLockManager` checks a write against the locks of the URL and all its ancestors in one query;
WsgiDAV's manager asks the storage level by level (four queries for ``/ws/folder/file``, twice per PUT).

A write asks the locks again where it takes place, in its own transaction, ordered against LOCK requests
(``files.locks.ordering.check_still_writable``): it puts that fresh read in the snapshot, for the manager's
checks to answer from.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from wsgidav import util
from wsgidav.dav_error import HTTP_BAD_REQUEST, DAVError, DAVErrorCondition, PRECONDITION_CODE_LockConflict
from wsgidav.lock_man.lock_manager import LockManager, generate_lock_token, normalize_lock_root, validate_lock

from files import raw_sql
from files.models import DavLock

LockDict = dict[str, Any]

#: Bytes of a lock's owner, the XML a LOCK names its holder with (an address, a name): it is stored with the lock
#: and comes back in every lockdiscovery of the locked resource, so in every listing of its folder.
MAX_OWNER_SIZE = 4 * 1024


@dataclass
class _Snapshot:
    root: str | None = None
    locks: list[LockDict] | None = None


_snapshot: contextvars.ContextVar[_Snapshot | None] = contextvars.ContextVar("dav_lock_snapshot", default=None)


@contextmanager
def snapshot(*, checked_at_write: bool = False) -> Iterator[None]:
    """Serve lock reads from one query for the duration of a request.

    ``checked_at_write``: read none, and let every check before the write pass. For a PUT whose write asks
    ``files.locks.ordering.check_still_writable`` anyway, and that has nothing to gain from being refused before
    its body has arrived (a small body, no ``If`` header naming lock tokens): its one read of the locks is the
    one that counts, where the write takes place.
    """
    token = _snapshot.set(_Snapshot(root="/", locks=[]) if checked_at_write else _Snapshot())
    try:
        yield
    finally:
        _snapshot.reset(token)


@contextmanager
def answered_from(root: str, found: list[LockDict]) -> Iterator[None]:
    """Serve the manager's lock reads at ``root`` and below from ``found``, a fresh read of them
    (:func:`locks_over` with children), for the duration of the block."""
    token = _snapshot.set(_Snapshot(root=root, locks=found))
    try:
        yield
    finally:
        _snapshot.reset(token)


def _as_dict(row: DavLock) -> LockDict:
    return {
        "token": row.token,
        "root": row.root,
        "principal": row.principal,
        "owner": bytes(row.owner),
        "scope": row.scope,
        "type": row.type,
        "depth": row.depth,
        "timeout": row.timeout,
        "expire": row.expire,
    }


def roots_over(path: str) -> list[str]:
    """The lock roots at ``path`` and above it: ``/a/b/`` → ``["/a/b", "/a", "/"]`` in WsgiDAV's normalised
    spelling."""
    paths = []
    current = path
    while current:
        paths.append(normalize_lock_root(current))
        current = util.get_uri_parent(current)
    return paths


def locks_over(path: str, *, include_children: bool) -> list[LockDict]:
    """The unexpired locks rooted at ``path`` or at an ancestor (and below ``path``, with ``include_children``),
    in one statement (``files.raw_sql.locks_at``): every write checks its locks and every listing reads them."""
    below = path.rstrip("/") + "/" if include_children else None
    return raw_sql.locks_at(roots_over(path), below=below, now=time.time())


def _matches(lock: LockDict, path: str, *, include_root: bool, include_children: bool) -> bool:
    root = lock["root"]
    return (include_root and root == path) or (include_children and root.startswith(path.rstrip("/") + "/"))


class DatabaseLockStorage:
    LOCK_TIME_OUT_DEFAULT = 604800  # 1 week
    LOCK_TIME_OUT_MAX = 4 * 604800

    def __repr__(self) -> str:
        return "DatabaseLockStorage"

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def cleanup(self) -> None:
        DavLock.objects.filter(expire__lt=time.time()).delete()

    def clear(self) -> None:
        DavLock.objects.all().delete()

    def _timeout(self, timeout: float | None) -> float:
        if timeout is None:
            return float(self.LOCK_TIME_OUT_DEFAULT)
        if timeout < 0 or timeout > self.LOCK_TIME_OUT_MAX:
            return float(self.LOCK_TIME_OUT_MAX)
        return float(timeout)

    def _forget_snapshot(self) -> None:
        current = _snapshot.get()
        if current is not None:
            current.root, current.locks = None, None

    def get(self, token: str) -> LockDict | None:
        row = DavLock.objects.filter(token=token, expire__gte=time.time()).first()
        return _as_dict(row) if row is not None else None

    def create(self, path: str, lock: LockDict) -> LockDict:
        # WsgiDAV's manager returns the dict it passed in, not ours: fill it in place.
        lock["root"] = normalize_lock_root(path)
        lock["timeout"] = self._timeout(lock.get("timeout"))
        lock["expire"] = time.time() + lock["timeout"]
        validate_lock(lock)
        if len(lock["owner"]) > MAX_OWNER_SIZE:
            reason = f"A lock's owner may take at most {MAX_OWNER_SIZE // 1024} KiB."
            raise DAVError(HTTP_BAD_REQUEST, context_info=reason)
        lock["token"] = generate_lock_token()
        DavLock.objects.create(
            token=lock["token"],
            root=lock["root"],
            principal=lock["principal"],
            owner=lock["owner"],
            scope=lock["scope"],
            type=lock["type"],
            depth=lock["depth"],
            timeout=lock["timeout"],
            expire=lock["expire"],
        )
        self._forget_snapshot()
        return lock

    def refresh(self, token: str, *, timeout: float | None) -> LockDict:
        seconds = self._timeout(timeout)
        DavLock.objects.filter(token=token).update(timeout=seconds, expire=time.time() + seconds)
        self._forget_snapshot()
        row = DavLock.objects.get(token=token)
        return _as_dict(row)

    def delete(self, token: str) -> bool:
        deleted, _ = DavLock.objects.filter(token=token).delete()
        self._forget_snapshot()
        return deleted > 0

    def get_lock_list(
        self, path: str, *, include_root: bool, include_children: bool, token_only: bool
    ) -> list[LockDict] | list[str]:
        path = normalize_lock_root(path)
        locks = self._from_snapshot(path, include_children=include_children)
        if locks is None:
            query = Q(pk__in=[])
            if include_root:
                query |= Q(root=path)
            if include_children:
                query |= Q(root__startswith_exactly=path.rstrip("/") + "/")
            locks = [_as_dict(row) for row in DavLock.objects.filter(query, expire__gte=time.time())]
        found = [
            lock for lock in locks if _matches(lock, path, include_root=include_root, include_children=include_children)
        ]
        if token_only:
            return [lock["token"] for lock in found]
        return found

    def get_locks_over(self, path: str, *, include_children: bool) -> list[LockDict]:
        """The locks rooted at ``path`` or at any of its ancestors (and below it, with ``include_children``),
        in one query."""
        path = normalize_lock_root(path)
        locks = self._from_snapshot(path, include_children=include_children)
        if locks is None:
            locks = locks_over(path, include_children=include_children)
        if not locks:
            return []
        ancestors = set(roots_over(path))
        below = path.rstrip("/") + "/"
        return [
            lock for lock in locks if lock["root"] in ancestors or (include_children and lock["root"].startswith(below))
        ]

    def _from_snapshot(self, path: str, *, include_children: bool) -> list[LockDict] | None:
        """The locks that may concern ``path``, when the snapshot covers it (loading it on first use)."""
        current = _snapshot.get()
        if current is None:
            return None
        if current.locks is None:
            current.root = path
            current.locks = locks_over(path, include_children=True)
        assert current.root is not None
        covered = current.root.rstrip("/") + "/"
        if path == current.root or path.startswith(covered):
            return current.locks
        if not include_children and path in roots_over(current.root):
            return current.locks
        return None


class DatabaseLockManager(LockManager):  # type: ignore[misc]
    """WsgiDAV's lock manager, with the write-conflict check in one storage query."""

    storage: DatabaseLockStorage

    def _get_write_conflicts(self, url: str, depth: str, token_list: list[str], principal: str) -> DAVErrorCondition:
        """As ``LockManager._get_write_conflicts``: a lock on ``url`` conflicts unless it is the principal's and
        its token was submitted; so does a Depth infinity lock on an ancestor; for a Depth infinity write,
        every lock below ``url`` conflicts."""
        conflicts = DAVErrorCondition(PRECONDITION_CODE_LockConflict)
        root = normalize_lock_root(url)
        below = root.rstrip("/") + "/"
        for lock in self.storage.get_locks_over(url, include_children=depth == "infinity"):
            below_url = lock["root"].startswith(below)
            applies = lock["root"] == root or lock["depth"] == "infinity"
            submitted = principal == lock["principal"] and lock["token"] in token_list
            if below_url or (applies and not submitted):
                conflicts.add_href(lock["root"])
        return conflicts
