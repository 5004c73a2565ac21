"""Tokens issued for one owner at the same moment, from several connections (the console, the REST API, several
instances on one database), still keep TOKEN_MAX_PER_USER and the rule that live labels differ."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Generic, TypeVar

import pytest
from django.db import connection, transaction

from tests.support.races import in_threads
from tokens.models import ROTATED_MEANWHILE, PersonalAccessToken, TokenError
from tokens.services import Rotation, token_create, token_rotate

pytestmark = pytest.mark.django_db(transaction=True)

Result = TypeVar("Result")


class _Race(Generic[Result]):
    """Racers that each issue a token in a transaction of their own and commit only once every other racer has
    made its checks too, or waits for a lock: on PostgreSQL (READ COMMITTED) the checks then really overlap
    unless issuance is serialized. SQLite takes its write lock at BEGIN (``transaction_mode`` IMMEDIATE), so
    there the racers run one after another and only the outcome is checked."""

    def __init__(self, calls: list[Callable[[], Result]]) -> None:
        self.calls = calls
        self.racers = len(calls)
        self.barrier = threading.Barrier(self.racers)
        self.guard = threading.Lock()
        self.settled = 0
        self.pids: list[int] = []

    def run(self) -> tuple[list[Result], list[BaseException]]:
        """Run the calls (each a racer) at once: what they returned and what they raised."""
        calls = self.calls
        results: list[Result] = []
        errors: list[BaseException] = []
        if connection.vendor != "postgresql":
            for call in calls:
                try:
                    results.append(call())
                except TokenError as error:
                    errors.append(error)
            return results, errors

        def racer(call: Callable[[], Result]) -> Callable[[], Result]:
            def race() -> Result:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    pid = cursor.fetchone()[0]
                with self.guard:
                    self.pids.append(pid)
                self.barrier.wait(timeout=30)
                with transaction.atomic():
                    try:
                        result = call()
                    finally:
                        with self.guard:
                            self.settled += 1
                    self._until_the_others_have_checked()
                return result

            return race

        return in_threads([racer(call) for call in calls])

    def _until_the_others_have_checked(self) -> None:
        """Hold this racer's commit until every racer has passed its checks (and inserted, or been refused) or
        is waiting for a lock (30 s at most)."""
        with connection.cursor() as cursor:
            for _ in range(3000):
                cursor.execute(
                    "SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted AND pid = ANY(%s)", [self.pids]
                )
                waiting = cursor.fetchone()[0]
                with self.guard:
                    if self.settled + waiting >= self.racers:
                        return
                time.sleep(0.01)
        raise AssertionError("the other racers neither got past their checks nor waited for a lock")


def _issue(owner, label: str) -> PersonalAccessToken:
    token, _raw = token_create(owner=owner, label=label, expires_in=timedelta(days=1), via="rest")
    return token


def test_concurrent_issuance_never_exceeds_the_tokens_per_user(demo, settings):
    settings.TOKEN_MAX_PER_USER = 2
    calls = [functools.partial(_issue, demo.alice, f"racer {index}") for index in range(5)]
    issued, errors = _Race(calls).run()
    assert PersonalAccessToken.objects.filter(owner=demo.alice, revoked_at=None).count() == 2
    assert len(issued) == 2
    assert len(errors) == 3
    assert all(isinstance(error, TokenError) and error.policy for error in errors), errors


def test_concurrent_issuance_of_one_label_makes_one_token(demo):
    issued, errors = _Race([functools.partial(_issue, demo.alice, "backup")] * 4).run()
    assert PersonalAccessToken.objects.filter(owner=demo.alice, label__iexact="backup").count() == 1
    assert len(issued) == 1
    assert len(errors) == 3
    assert all(isinstance(error, TokenError) and error.field == "label" for error in errors), errors


def _rotate(token: PersonalAccessToken, actor) -> Rotation:
    # Each racer reads the token afresh, as a request would: live, since no rotation has committed yet.
    return token_rotate(token=PersonalAccessToken.objects.get(pk=token.pk), actor=actor, via="rest")


def test_concurrent_rotations_of_one_token_make_one_new_token(demo):
    old = _issue(demo.alice, "backup")
    rotations, errors = _Race([functools.partial(_rotate, old, demo.alice)] * 3).run()
    assert len(rotations) == 1
    assert len(errors) == 2
    # Not "choose another label": the token the others would replace is no longer live (on PostgreSQL they read it
    # live and learn otherwise once the owner is theirs; on SQLite they run after the first and read it revoked).
    assert all(isinstance(error, TokenError) and "cannot be rotated" in str(error) for error in errors), errors
    live = PersonalAccessToken.objects.filter(owner=demo.alice, revoked_at=None)
    assert list(live) == [rotations[0].token]


def test_a_rotation_of_a_token_rotated_since_it_was_read_is_refused_as_such(demo):
    read_by_one = _issue(demo.alice, "backup")
    read_by_other = PersonalAccessToken.objects.get(pk=read_by_one.pk)
    token_rotate(token=read_by_one, actor=demo.alice, via="rest")
    with pytest.raises(TokenError) as refused:
        token_rotate(token=read_by_other, actor=demo.alice, via="rest")  # still live, as far as it knows
    assert str(refused.value) == ROTATED_MEANWHILE
    assert PersonalAccessToken.objects.filter(owner=demo.alice, revoked_at=None).count() == 1
