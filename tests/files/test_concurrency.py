from __future__ import annotations

import functools
import io
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from files import services
from files.models import Node
from tests.support.races import in_threads
from tokens.models import PersonalAccessToken

pytestmark = pytest.mark.django_db(transaction=True)


def _concurrently(*calls: Callable[[], object]) -> list[BaseException]:
    """Run each call in a thread of its own (with its own database connection, closed after): what they raised."""
    return in_threads(list(calls))[1]


def _until_an_advisory_lock_is_awaited(what: str) -> None:
    """Return once another connection waits for an advisory lock (10 s at most)."""
    with connection.cursor() as cursor:
        for _ in range(1000):
            cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            if cursor.fetchone()[0]:
                return
            threading.Event().wait(0.01)
    raise AssertionError(f"{what} did not wait")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="runs against PostgreSQL (DATABASE_URL=postgres://…)")
def test_twenty_concurrent_uses_of_one_auto_refresh_token(demo):
    window = timedelta(hours=1)
    token, raw = demo.token(demo.alice, expires_in=None, refresh_window=window)
    # Let the stored expiry lag far behind, so that every one of the concurrent uses wants to write it.
    lagging = timezone.now() + timedelta(minutes=5)
    PersonalAccessToken.objects.filter(pk=token.pk).update(expires_at=lagging, last_used_at=None)
    barrier = threading.Barrier(20)
    results: list[object] = []

    def use() -> None:
        barrier.wait(timeout=30)
        results.append(PersonalAccessToken.objects.authenticate(raw, ip="192.0.2.1", protocol="REST"))

    started = timezone.now()
    errors = _concurrently(*[use] * 20)
    finished = timezone.now()
    assert errors == []
    assert len(results) == 20
    assert all(result is not None for result in results)
    token.refresh_from_db()
    assert started + window <= token.expires_at <= finished + window
    assert token.last_used_at is not None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="runs against PostgreSQL (DATABASE_URL=postgres://…)")
def test_concurrent_uploads_of_one_new_name_make_one_file(demo):
    """Eight writers race for a free name: one creates the file, the others replace it; none fails."""
    folder = demo.node("/common")
    barrier = threading.Barrier(8)
    created: list[bool] = []

    def upload(index: int) -> None:
        barrier.wait(timeout=30)
        _node, was_created = services.write_file(
            parent=folder, name="race.txt", stream=io.BytesIO(f"writer {index}".encode())
        )
        created.append(was_created)

    assert _concurrently(*[functools.partial(upload, index) for index in range(8)]) == []
    assert sorted(created) == [False] * 7 + [True]
    nodes = list(Node.objects.filter(parent=folder, name="race.txt"))
    assert len(nodes) == 1
    with services.open_content(nodes[0]) as handle:
        assert handle.read().startswith(b"writer ")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="runs against PostgreSQL (DATABASE_URL=postgres://…)")
def test_a_lock_request_waits_for_a_write_that_has_checked_its_locks(demo):
    """A write's last look at the locks (``check_still_writable``) and its commit are one step for a LOCK: the
    LOCK's transaction cannot start between them, so it cannot be granted over a write that has just found the
    URL free."""
    from django.db import transaction

    from files.locks import ordering, storage

    manager = storage.DatabaseLockManager(storage.DatabaseLockStorage())
    checked = threading.Event()
    order: list[str] = []

    def write() -> None:
        try:
            with transaction.atomic():
                ordering.check_still_writable(
                    manager, url="/common/welcome.txt", new_in=None, token_list=[], principal="someone"
                )
                checked.set()
                _until_an_advisory_lock_is_awaited("the LOCK")
                order.append("write commits")
        finally:
            checked.set()

    def lock() -> None:
        assert checked.wait(timeout=30)
        with ordering.serialized():
            order.append("lock proceeds")

    assert _concurrently(write, lock) == []
    assert order == ["write commits", "lock proceeds"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="runs against PostgreSQL (DATABASE_URL=postgres://…)")
def test_a_new_file_waits_for_a_lock_request_and_then_honours_its_lock(demo):
    """The one-statement upload of a new file (``no_lock_against_new``) reads the locks only once it holds the
    advisory lock: a LOCK request in progress commits first, and the upload then sees its lock (423), although
    its statement was sent while the LOCK was not yet committed."""
    from files.errors import Locked
    from files.locks import ordering, storage, write_guard

    manager = storage.DatabaseLockManager(storage.DatabaseLockStorage())
    locking = threading.Event()
    outcome: list[str] = []

    def lock() -> None:
        try:
            with ordering.serialized():
                manager.acquire(
                    url="/common",
                    lock_type="write",
                    lock_scope="exclusive",
                    lock_depth="0",
                    lock_owner=b"",
                    timeout=60,
                    principal="someone",
                    token_list=[],
                )
                locking.set()
                _until_an_advisory_lock_is_awaited("the upload")
        finally:
            locking.set()

    def upload() -> None:
        assert locking.wait(timeout=30)
        guard = write_guard.upload_guard("/common/new.txt", None)
        try:
            services.write_file(
                parent=demo.node("/common"), name="new.txt", stream=io.BytesIO(b"x"), precondition=guard
            )
            outcome.append("written")
        except Locked:
            outcome.append("locked")

    assert _concurrently(lock, upload) == []
    assert outcome == ["locked"]
    assert not Node.objects.filter(name="new.txt").exists()
