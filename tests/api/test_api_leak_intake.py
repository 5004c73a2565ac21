"""POST /api/v1/tokens/revoke-leaked: anyone may report exposed tokens. A live one stops at once, is recorded
as reported leaked with the reporter's address and its owner is e-mailed; anything else changes nothing; the
answer is always the same 202; malformed strings cost no query; reports are rate-limited per address."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.support.api_helpers import API, bearer, call
from tokens import format as token_format
from tokens.audit import AuditEvent
from tokens.models import PersonalAccessToken


def _report(client, tokens, ip="203.0.113.9"):
    return call(client, "POST", "/tokens/revoke-leaked", {"tokens": tokens}, REMOTE_ADDR=ip)


def _forged() -> str:
    """A well-formed token with a right checksum that no row has."""
    return token_format.generate()[0]


def test_a_live_token_stops_at_once_and_its_owner_is_told(demo, client, mailoutbox, django_capture_on_commit_callbacks):
    token, raw = demo.token(demo.alice, label="deploy key")
    with django_capture_on_commit_callbacks(execute=True):
        response = _report(client, [raw])
    assert (response.status_code, response.json()) == (202, {"received": 1})
    assert client.get(f"{API}/me", **bearer(raw)).status_code == 401
    # Revoked, and listed as reported leaked until the retention removes it.
    token.refresh_from_db()
    assert (token.status, token.revoked_how) == ("Revoked", PersonalAccessToken.LEAKED)
    event = AuditEvent.objects.get(event=AuditEvent.LEAKED)
    assert (event.token_id, event.owner_login, event.ip, event.via) == (token.lookup_id, "alice", "203.0.113.9", "rest")
    assert event.reason == "reported leaked" and event.actor_label == "system"
    [message] = mailoutbox
    assert message.to == ["alice@example.com"] and "deploy key" in message.subject
    assert "203.0.113.9" in message.body and raw not in message.body and token.lookup_id in message.body


def test_a_dead_or_made_up_token_changes_nothing_and_gets_the_same_answer(demo, client, mailoutbox):
    live, live_raw = demo.token(demo.alice)
    with time_machine.travel(timezone.now() - timedelta(days=2)):
        expired, expired_raw = demo.token(demo.bob, expires_in=timedelta(days=1))
    wrong_secret = live_raw[:17] + ("B" if live_raw[17] != "B" else "C") + live_raw[18:-6]
    wrong_secret += token_format._checksum(wrong_secret)
    answers = {
        _report(client, [text]).content
        for text in (expired_raw, _forged(), wrong_secret, "cpat_nonsense", "", "x" * 5000)
    }
    assert answers == {b'{"received": 1}'}
    assert PersonalAccessToken.objects.filter(pk__in=[live.pk, expired.pk]).count() == 2
    assert client.get(f"{API}/me", **bearer(live_raw)).status_code == 200
    assert not AuditEvent.objects.filter(event=AuditEvent.LEAKED).exists()
    assert mailoutbox == []


def test_a_live_token_among_others_is_answered_as_any_report(demo, client):
    _token, raw = demo.token(demo.alice)
    assert _report(client, [raw, _forged(), "garbage"]).content == _report(client, [_forged(), _forged(), "x"]).content


def test_one_e_mail_per_owner_for_several_tokens(demo, client, mailoutbox, django_capture_on_commit_callbacks):
    raws = [demo.token(demo.alice, label=f"key {n}")[1] for n in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        _report(client, [*raws, raws[0]])
    assert not PersonalAccessToken.objects.filter(revoked_at=None).exists()
    [message] = mailoutbox
    assert "3 of your personal access tokens" in message.subject


def test_a_thousand_malformed_strings_cost_no_query(demo, client, django_assert_num_queries):
    junk = [f"cpat_{n:050d}" for n in range(500)] + [_forged()[:-1] + "!" for _n in range(250)] + ["x"] * 250
    with django_assert_num_queries(0):
        assert _report(client, junk).status_code == 202


def test_a_thousand_forged_strings_cost_one_query(demo, client, django_assert_num_queries):
    forged = [_forged() for _n in range(1000)]
    with django_assert_num_queries(1):
        assert _report(client, forged).json() == {"received": 1000}


def test_more_than_a_thousand_strings_is_a_422(demo, client):
    _token, raw = demo.token(demo.alice)
    assert _report(client, [raw] + ["x"] * 1000).status_code == 422
    assert PersonalAccessToken.objects.exists()


@pytest.mark.parametrize("body", [{}, {"tokens": "cpat_x"}, {"tokens": [1, 2]}, ["cpat_x"], {"token": []}])
def test_a_body_of_another_shape_is_a_422(demo, client, body):
    assert call(client, "POST", "/tokens/revoke-leaked", body).status_code == 422


def test_reports_are_rate_limited_per_address(demo, client, settings):
    settings.LEAK_REPORT_LIMIT = 2
    assert [_report(client, ["x"]).status_code for _n in range(2)] == [202, 202]
    limited = _report(client, ["x"])
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1
    assert _report(client, ["x"], ip="198.51.100.2").status_code == 202


def test_a_rate_limited_report_revokes_nothing(demo, client, settings):
    settings.LEAK_REPORT_LIMIT = 0
    _token, raw = demo.token(demo.alice)
    assert _report(client, [raw]).status_code == 429
    assert client.get(f"{API}/me", **bearer(raw)).status_code == 200


def test_no_credentials_needed_and_a_session_changes_nothing(demo, alice_client):
    _token, raw = demo.token(demo.bob)
    assert _report(alice_client, [raw]).status_code == 202
    assert not PersonalAccessToken.objects.filter(owner=demo.bob, revoked_at=None).exists()
