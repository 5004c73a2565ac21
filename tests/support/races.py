"""Races for the tests: calls run at once in threads of their own (:func:`in_threads`), and another request or
process let in where a write is most exposed to it: after WsgiDAV's checks, at the start of the write's own
transaction, as the write begins to read the locks again. That point is
``files.locks.ordering.hold_off_lock_requests``, which every write's lock check calls first (from there on, no
LOCK request can land before the write has committed)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import pytest
from django.db import connections

from files.locks import ordering
from files.locks.storage import DatabaseLockStorage

Result = TypeVar("Result")


def in_threads(calls: list[Callable[[], Result]]) -> tuple[list[Result], list[BaseException]]:
    """Run each call in a thread of its own, all at once, each on a database connection of its own (closed after):
    what they returned and what they raised, in the order they finished."""
    results: list[Result] = []
    errors: list[BaseException] = []

    def run(call: Callable[[], Result]) -> None:
        try:
            results.append(call())
        except BaseException as error:  # collected for the test to assert on
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def before_the_write_reads_its_locks(monkeypatch: pytest.MonkeyPatch, action: Callable[[], object]) -> None:
    """Run ``action`` once, the first time a write starts to read its locks."""
    hold_off = ordering.hold_off_lock_requests
    pending = [action]

    def meanwhile_then_hold_off() -> None:
        while pending:
            pending.pop()()
        hold_off()

    monkeypatch.setattr(ordering, "hold_off_lock_requests", meanwhile_then_hold_off)


def lock_elsewhere(root: str, *, depth: str = "infinity") -> Callable[[], object]:
    """Someone else's exclusive write lock on ``root`` (a lock URL such as ``/research``), as another process
    would take it."""
    lock = {"principal": "someone else", "owner": b"", "scope": "exclusive", "type": "write"}
    return lambda: DatabaseLockStorage().create(root, {**lock, "depth": depth, "timeout": 600})
