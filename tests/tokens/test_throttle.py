from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from tokens import format as token_format
from tokens.auth import REST, authenticate
from tokens.throttle import Throttled

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
    with pytest.raises(Throttled), CaptureQueriesContext(connection) as context:
        authenticate(raw, protocol=REST, ip="203.0.113.1")
    assert context.captured_queries == []  # refused before the database is asked
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
