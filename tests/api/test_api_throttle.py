from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone


@pytest.fixture
def frozen(settings):
    settings.AUTH_FAILURE_LIMIT = 3
    settings.AUTH_FAILURE_WINDOW = 60
    start = (int(timezone.now().timestamp()) // 60 + 1) * 60
    with time_machine.travel(start, tick=False) as traveller:
        yield traveller


def me(token: str, ip: str):
    return Client(REMOTE_ADDR=ip).get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_attacker_gets_429_with_retry_after_while_another_ip_works(demo, frozen):
    _token, raw = demo.token(demo.alice)
    for _ in range(3):
        assert me("cpat_wrong", "203.0.113.9").status_code == 401
    refused = me(raw, "203.0.113.9")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert "Too many failed attempts" in refused.json()["detail"]
    assert me(raw, "198.51.100.1").status_code == 200


def test_the_counter_expires(demo, frozen):
    _token, raw = demo.token(demo.alice)
    for _ in range(3):
        me("cpat_wrong", "203.0.113.9")
    assert me(raw, "203.0.113.9").status_code == 429
    frozen.shift(timedelta(seconds=60))
    assert me(raw, "203.0.113.9").status_code == 200


def test_the_user_agent_is_recorded(demo):
    token, raw = demo.token(demo.alice)
    Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_USER_AGENT="curl/8.5")
    token.refresh_from_db()
    assert token.last_used_agent == "curl/8.5"
