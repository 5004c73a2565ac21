"""One counter of failed password checks per login, across the console and WebDAV: five failures on either lock
the password on both for the cool-down, from every address, while the login's tokens keep working.

Run with ``REDIS_URL`` set, the same tests exercise the counter in Redis."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.support.cache_support import CacheCalls
from tests.support.dav_support import DavClient
from tests.support.demo import DEMO_PASSWORD

LIMIT = 5
COOLOFF = timedelta(minutes=15)


@pytest.fixture(autouse=True)
def frozen(settings) -> Iterator[time_machine.Traveller]:
    settings.LOGIN_FAILURE_LIMIT = LIMIT
    settings.LOGIN_COOLOFF = COOLOFF
    # Far from the address throttle's limit: only the password counter can refuse here.
    settings.AUTH_FAILURE_LIMIT = 100
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def console_login(login: str, password: str, ip: str = "203.0.113.9"):
    return Client(REMOTE_ADDR=ip).post("/login/", {"username": login, "password": password})


def dav_response(login: str, secret: str):
    return DavClient(login, secret).propfind("/dav/", depth="0")


def fail_on_console(login: str, times: int = LIMIT) -> None:
    for _ in range(times):
        console_login(login, "wrong")


def fail_on_webdav(login: str, times: int = LIMIT) -> None:
    for _ in range(times):
        assert dav_response(login, "wrong").status == 401


def test_five_console_failures_lock_the_password_on_webdav(demo):
    fail_on_console("bob")
    refused = dav_response("bob", DEMO_PASSWORD)
    assert refused.status == 401
    assert 0 < int(refused.headers["retry-after"]) <= COOLOFF.total_seconds()


def test_five_webdav_failures_lock_the_console_login(demo):
    fail_on_webdav("bob")
    response = console_login("bob", DEMO_PASSWORD)
    assert response.status_code == 429
    assert b"Too many failed sign-ins for this login" in response.content
    assert "_auth_user_id" not in response.client.session


def test_the_fifth_failure_already_answers_with_the_lockout(demo):
    fail_on_console("bob", LIMIT - 1)
    response = console_login("bob", "wrong")
    assert response.status_code == 429
    assert b"Too many failed sign-ins for this login" in response.content


def test_four_failures_do_not_lock(demo):
    fail_on_webdav("bob", LIMIT - 1)
    assert console_login("bob", DEMO_PASSWORD).status_code == 302


def test_the_lock_holds_from_every_address(demo):
    fail_on_console("bob")
    assert console_login("bob", DEMO_PASSWORD, ip="198.51.100.1").status_code == 429


def test_the_lock_counts_logins_regardless_of_case(demo):
    fail_on_webdav("Bob", 3)
    fail_on_console("BOB", 2)
    assert dav_response("bob", DEMO_PASSWORD).status == 401


def test_a_locked_password_is_refused_before_it_is_checked(demo):
    fail_on_console("bob")
    with CaptureQueriesContext(connection) as queries:
        assert dav_response("bob", DEMO_PASSWORD).status == 401
    assert queries.captured_queries == []


def test_a_locked_login_keeps_its_tokens_on_webdav(demo):
    _token, raw = demo.token(demo.bob)
    fail_on_console("bob")
    assert dav_response("bob", raw).status == 207


def test_a_locked_login_keeps_its_tokens_on_the_api(demo):
    _token, raw = demo.token(demo.bob)
    fail_on_webdav("bob")
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200


def test_the_lock_ends_after_the_cooloff(demo, frozen):
    fail_on_console("bob")
    frozen.shift(COOLOFF + timedelta(seconds=1))
    assert dav_response("bob", DEMO_PASSWORD).status == 207


def test_another_login_is_not_locked(demo):
    fail_on_console("bob")
    assert dav_response("alice", DEMO_PASSWORD).status == 207


def test_a_successful_password_clears_the_earlier_failures(demo):
    fail_on_console("bob", LIMIT - 1)
    assert dav_response("bob", DEMO_PASSWORD).status == 207
    fail_on_webdav("bob", LIMIT - 1)
    assert console_login("bob", DEMO_PASSWORD).status_code == 302


def test_a_token_request_that_succeeds_never_asks_the_cache(demo):
    _token, raw = demo.token(demo.bob)
    with CacheCalls() as calls:
        assert dav_response("bob", raw).status == 207
    assert calls.names == []


def test_a_refused_token_request_never_reads_the_password_counter(demo):
    _alices, wrong = demo.token(demo.alice)  # a good token, but not bob's
    with CacheCalls() as calls:
        assert dav_response("bob", wrong).status == 401
    assert calls.names
    assert not any(":password:" in key or ":password-lock:" in key for key in calls.keys)


def test_a_password_that_fails_nothing_costs_one_cache_round_trip(demo):
    with CacheCalls() as calls:
        assert dav_response("bob", DEMO_PASSWORD).status == 207
    assert len(calls.names) == 1
