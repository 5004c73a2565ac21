"""Writes and LOCK requests in one order, across every worker process.

WsgiDAV's manager checks for conflicts and then creates a lock, and checks a write's locks before it writes,
guarded only within its own process. :func:`serialized` makes the whole LOCK request one transaction that no other
process can interleave with (SQLite: ``BEGIN IMMEDIATE`` takes the write lock; PostgreSQL: a transaction-scoped
advisory lock). A write holds LOCK requests off in its own transaction (:func:`hold_off_lock_requests`) and asks
the locks again there (:func:`check_still_writable`); a new file's INSERT states the same check as its condition
(:func:`no_lock_against_new`). So a LOCK lands wholly before a write or after it. ``files.locks.write_guard``
builds on these.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction
from wsgidav.lock_man.lock_manager import normalize_lock_root

from files import raw_sql
from files.locks.storage import DatabaseLockManager, answered_from, locks_over, roots_over

#: Any constant: the key of the PostgreSQL advisory lock that serialises LOCK requests.
_ADVISORY_KEY = 0x43454C4C


@contextmanager
def serialized() -> Iterator[None]:
    """One transaction that lock changes in other processes wait for."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            raw_sql.advisory_lock(_ADVISORY_KEY, shared=False)
        yield


def hold_off_lock_requests() -> None:
    """In a write's transaction, before it reads the locks: no LOCK request commits until the write has (on
    PostgreSQL, the advisory lock that :func:`serialized` takes exclusively, here in shared mode; on SQLite the
    write's own transaction already holds the database's write lock)."""
    if connection.vendor == "postgresql":
        raw_sql.advisory_lock(_ADVISORY_KEY, shared=True)


def check_still_writable(
    manager: DatabaseLockManager,
    *,
    url: str,
    new_in: str | None,
    token_list: list[str],
    principal: str,
    depth: str = "0",
) -> None:
    """Inside the transaction that writes ``url``: 423 if a lock the request did not submit covers it now (or,
    with ``depth`` infinity, anything below it), or covers the list of members of ``new_in``, the folder that
    a new resource goes into.

    WsgiDAV checks a PUT's locks before the body arrives, and keeps other LOCKs off the URL until the write is
    done only within its own process. A LOCK served by another process (or machine) while a body is still
    arriving would be granted, and the write would then land under it. Asked again where the write takes
    place, with the locks read afresh, the answer holds: on SQLite the write's transaction holds the database's
    write lock, which a LOCK's transaction needs too; on PostgreSQL the write takes in shared mode the advisory
    lock that :func:`serialized` LOCK requests take exclusively. So a LOCK lands wholly before the write (which
    is then refused) or after it.
    """
    hold_off_lock_requests()
    # One fresh read of the locks (over the folder, and below it) answers both questions; most often there are
    # none, and nothing is left to ask.
    root = normalize_lock_root(new_in if new_in is not None else url)
    found = locks_over(root, include_children=True)
    if not found:
        return
    with answered_from(root, found):
        if new_in is not None:
            manager.check_write_permission(url=new_in, depth="0", token_list=token_list, principal=principal)
        manager.check_write_permission(url=url, depth=depth, token_list=token_list, principal=principal)


def no_lock_against_new(url: str, *, folder: str) -> raw_sql.SqlCondition | None:
    """As an SQL condition for the statement that inserts ``url``, a new member of ``folder``: no lock holds
    against it, whatever tokens the request submitted. That is no lock on the folder (of any depth: it guards
    the folder's members) or on ``url`` itself, and no Depth infinity lock above the folder: exactly where
    :func:`check_still_writable` lets a write through that submits no token. Locks on the folder's other
    members do not count.

    On SQLite a statement that writes holds the database's write lock while it reads, as a LOCK request's
    transaction does, so the new member goes in wholly before a LOCK (which then sees it) or not at all. On
    PostgreSQL the statement runs in a transaction that first takes the advisory lock in shared mode
    (:func:`hold_off_lock_requests`): a LOCK that holds it has committed by the time the statement starts and
    reads (each statement reads what has committed when it starts), and a LOCK that comes later waits for the
    write's commit. None on any other database.
    """
    if connection.vendor not in ("sqlite", "postgresql"):
        return None
    folder = normalize_lock_root(folder)
    return raw_sql.no_lock_condition(
        normalize_lock_root(url),
        folder=folder,
        above=roots_over(folder)[1:],
        now=time.time(),
        ordered_by=hold_off_lock_requests if connection.vendor == "postgresql" else None,
    )
