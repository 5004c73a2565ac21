from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError

from tokens import format as token_format
from tokens.auth import REST, authenticate
from tokens.throttle import AddressLockout, Throttled

pytestmark = pytest.mark.usefixtures("limit_five")


@pytest.fixture
def limit_five():
    with override_settings(AUTH_FAILURE_LIMIT=5, AUTH_FAILURE_WINDOW=60):
        yield


@pytest.fixture
def frozen():
    # At the start of a window, so that the whole test stays inside it.
    start = (int(timezone.now().timestamp()) // 60 + 1) * 60
    with time_machine.travel(start, tick=False) as traveller:
        yield traveller


def fail(ip: str, times: int) -> None:
    for _ in range(times):
        assert authenticate("wrong", protocol=REST, ip=ip) is None


def test_attacker_ip_is_refused_with_retry_after_while_another_ip_works(demo, frozen):
    _token, raw = demo.token(demo.alice)
    fail("203.0.113.1", 5)
    with pytest.raises(Throttled) as refused:
        authenticate("wrong", protocol=REST, ip="203.0.113.1")
    assert 0 < refused.value.retry_after <= 60
    with pytest.raises(Throttled) as locked, CaptureQueriesContext(connection) as context:
        authenticate(raw, protocol=REST, ip="203.0.113.1")
    assert 0 < locked.value.retry_after <= 60
    # Refused by the token lookup, which reads the address's lockout with the row: no use noted, no audit record.
    assert len(context.captured_queries) == 1
    assert authenticate(raw, protocol=REST, ip="198.51.100.7").user == demo.alice


def test_token_id_throttle_never_locks_out_the_right_secret(demo, frozen):
    token, raw = demo.token(demo.alice)
    forged_body = token_format.PREFIX + token.lookup_id + "x" * token_format.SECRET_LENGTH
    forged = forged_body + token_format._checksum(forged_body)
    for index in range(5):
        assert authenticate(forged, protocol=REST, ip=f"203.0.113.{index}") is None
    with pytest.raises(Throttled):
        authenticate(forged, protocol=REST, ip="203.0.113.99")
    assert authenticate(raw, protocol=REST, ip="198.51.100.7").token == token


def test_counter_expires_with_its_window(demo, frozen):
    _token, raw = demo.token(demo.alice)
    fail("203.0.113.1", 5)
    with pytest.raises(Throttled):
        authenticate(raw, protocol=REST, ip="203.0.113.1")
    frozen.shift(timedelta(seconds=60))
    assert authenticate(raw, protocol=REST, ip="203.0.113.1").user == demo.alice


def test_password_failures_count_too(demo, frozen):
    for login in ("admin", "bob", "carol", "dave", "erin"):
        assert authenticate("nope", protocol="WebDAV", login=login, ip="203.0.113.5", allow_password=True) is None
    with pytest.raises(Throttled):
        authenticate("demo-password-for-tests", protocol="WebDAV", login="alice", ip="203.0.113.5", allow_password=True)


def test_the_failure_that_reaches_the_limit_locks_the_address_out_in_the_database(demo, frozen):
    fail("203.0.113.1", 4)
    assert not AddressLockout.objects.exists()
    fail("203.0.113.1", 1)
    lockout = AddressLockout.objects.get()
    assert lockout.address == "203.0.113.1"
    assert lockout.locked_until == int(timezone.now().timestamp()) + 60  # the end of the window


def test_password_failures_lock_the_address_out_for_tokens_too(demo, frozen):
    _token, raw = demo.token(demo.alice)
    for login in ("admin", "bob", "carol", "dave", "erin"):
        assert authenticate("nope", protocol="WebDAV", login=login, ip="203.0.113.5", allow_password=True) is None
    with pytest.raises(Throttled):
        authenticate(raw, protocol="WebDAV", login="alice", ip="203.0.113.5")


def test_an_ended_lockout_is_deleted_when_the_next_one_is_written(demo, frozen):
    fail("203.0.113.1", 5)
    frozen.shift(timedelta(seconds=60))
    fail("203.0.113.2", 5)
    assert list(AddressLockout.objects.values_list("address", flat=True)) == ["203.0.113.2"]


@pytest.fixture
def unreachable_cache():
    # Nothing listens on port 1: every cache round trip fails at once with ConnectionError.
    cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    with override_settings(CACHES={"default": cache}):
        yield


def test_a_good_token_needs_no_cache_round_trip(demo, unreachable_cache):
    _token, raw = demo.token(demo.alice)
    assert authenticate(raw, protocol=REST, ip="198.51.100.7").user == demo.alice


def test_a_refused_token_asks_the_cache(demo, unreachable_cache):
    token, _raw = demo.token(demo.alice)
    forged_body = token_format.PREFIX + token.lookup_id + "x" * token_format.SECRET_LENGTH
    with pytest.raises(RedisConnectionError):
        authenticate(forged_body + token_format._checksum(forged_body), protocol=REST, ip="198.51.100.7")
