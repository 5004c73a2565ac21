from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from tokens import format as token_format
from tokens.models import PersonalAccessToken, TokenError

authenticate = PersonalAccessToken.objects.authenticate


def _updates(context: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in context.captured_queries if query["sql"].lstrip().upper().startswith("UPDATE")]


@pytest.fixture
def frozen():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def test_hard_limit_token_works_until_exactly_its_end(demo, frozen):
    token, raw = demo.token(demo.alice, expires_in=timedelta(days=20))
    assert token.expires_at == token.created_at + timedelta(days=20)
    frozen.shift(timedelta(days=20) - timedelta(microseconds=1))
    assert authenticate(raw) is not None
    frozen.shift(timedelta(microseconds=1))
    assert authenticate(raw) is None


def test_hard_limit_is_not_extended_by_use(demo, frozen):
    token, raw = demo.token(demo.alice, expires_in=timedelta(hours=1))
    frozen.shift(timedelta(minutes=50))
    assert authenticate(raw) is not None
    token.refresh_from_db()
    assert token.expires_at == token.created_at + timedelta(hours=1)


def test_auto_refresh_token_is_extended_by_use_and_dies_when_idle(demo, frozen):
    _token, raw = demo.token(demo.alice, expires_in=None, refresh_window=timedelta(hours=1))
    for _ in range(5):  # five hours of use, never idle for a whole window
        frozen.shift(timedelta(minutes=55))
        assert authenticate(raw) is not None
    frozen.shift(timedelta(hours=1))
    assert authenticate(raw) is None


def test_auto_refresh_with_a_window_of_seconds(demo, frozen):
    _token, raw = demo.token(demo.alice, expires_in=None, refresh_window=timedelta(seconds=3))
    for _ in range(10):
        frozen.shift(timedelta(seconds=2))
        assert authenticate(raw) is not None
    frozen.shift(timedelta(seconds=3))
    assert authenticate(raw) is None


def test_absolute_end_caps_auto_refresh(demo, frozen):
    token, raw = demo.token(demo.alice, expires_in=timedelta(hours=3), refresh_window=timedelta(hours=1))
    end = token.created_at + timedelta(hours=3)
    for _ in range(6):
        frozen.shift(timedelta(minutes=29))
        assert authenticate(raw) is not None
    token.refresh_from_db()
    assert token.expires_at == end
    frozen.move_to(end)
    assert authenticate(raw) is None


def test_hundred_uses_within_a_minute_cost_at_most_one_update(demo, frozen):
    _token, raw = demo.token(demo.alice, expires_in=None, refresh_window=timedelta(hours=1))
    with CaptureQueriesContext(connection) as context:
        for _ in range(100):
            frozen.shift(timedelta(milliseconds=500))
            assert authenticate(raw, ip="127.0.0.1", protocol="REST") is not None
    assert len(_updates(context)) <= 1


def test_valid_token_costs_one_query_and_its_throttled_last_use_write_two_more(demo):
    _token, raw = demo.token(demo.alice)
    with CaptureQueriesContext(connection) as context:
        assert authenticate(raw) is not None
    # The lookup, the recent uses (left out of the lookup) and the one UPDATE; about once a minute at most.
    assert len(context.captured_queries) == 3
    assert [query["sql"].split()[0] for query in context.captured_queries] == ["SELECT", "SELECT", "UPDATE"]
    with CaptureQueriesContext(connection) as context:
        assert authenticate(raw) is not None
    assert len(context.captured_queries) == 1


def test_wrong_checksum_is_refused_without_a_query(demo):
    _token, raw = demo.token(demo.alice)
    forged = raw[:-1] + ("A" if raw[-1] != "A" else "B")
    with CaptureQueriesContext(connection) as context:
        assert authenticate(forged) is None
        assert authenticate("not a token") is None
    assert context.captured_queries == []


def test_unknown_token_with_valid_checksum_is_refused(demo):
    raw, _ = token_format.generate()
    assert authenticate(raw) is None


def test_deleted_token_is_refused_on_the_next_call(demo):
    token, raw = demo.token(demo.alice)
    assert authenticate(raw) is not None
    token.delete()
    assert authenticate(raw) is None


def test_inactive_owners_tokens_are_refused(demo):
    _token, raw = demo.token(demo.alice)
    demo.alice.is_active = False
    demo.alice.save()
    assert authenticate(raw) is None


def test_stored_row_holds_no_plain_secret(demo):
    token, raw = demo.token(demo.alice)
    secret = token_format.parse(raw).secret
    row = PersonalAccessToken.objects.filter(pk=token.pk).values().get()
    assert not any(secret in str(value) for value in row.values())
    assert not any(raw in str(value) for value in row.values())


def test_row_hashed_under_an_old_pepper_authenticates_and_is_rehashed(demo):
    with override_settings(TOKEN_PEPPERS=["1:old-pepper"]):
        token, raw = demo.token(demo.alice)
    assert token.pepper_version == 1
    with override_settings(TOKEN_PEPPERS=["2:new-pepper", "1:old-pepper"]):
        assert authenticate(raw) is not None
        token.refresh_from_db()
        assert token.pepper_version == 2
        assert authenticate(raw) is not None
    with override_settings(TOKEN_PEPPERS=["2:new-pepper"]):
        assert authenticate(raw) is not None


def test_token_under_a_retired_pepper_is_refused(demo):
    with override_settings(TOKEN_PEPPERS=["1:old-pepper"]):
        _token, raw = demo.token(demo.alice)
    with override_settings(TOKEN_PEPPERS=["2:new-pepper"]):
        assert authenticate(raw) is None


def test_use_records_last_used_details(demo):
    token, raw = demo.token(demo.alice)
    authenticate(raw, ip="192.0.2.7", protocol="WebDAV")
    token.refresh_from_db()
    assert (token.last_used_ip, token.last_used_protocol) == ("192.0.2.7", "WebDAV")
    assert token.last_used_at is not None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"expires_in": timedelta(0)}, "longer than zero"),
        ({"expires_in": timedelta(days=400)}, "at most"),
        ({"expires_in": None, "refresh_window": None}, "needs a duration"),
        ({"label": "  "}, "needs a label"),
    ],
)
def test_issue_refuses_bad_requests_and_creates_nothing(demo, kwargs, message):
    with pytest.raises(TokenError, match=message):
        demo.token(demo.alice, **kwargs)
    assert not PersonalAccessToken.objects.exists()


def test_statuses(demo, frozen):
    hard, _ = demo.token(demo.alice, expires_in=timedelta(days=10))
    assert hard.status == "Active"
    frozen.shift(timedelta(days=7, hours=12, seconds=1))
    assert hard.status == "Expiring soon"
    frozen.shift(timedelta(days=7))
    assert hard.status == "Expired"
