"""The PAT tab's lifecycle parts: usage statuses, expired rows, admin-issued marks, the details a row expands to,
and what the create dialog says about the instance policy."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from tests.support.html_text import text_of
from tokens.models import RECENT_USES, PersonalAccessToken

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _details(client: Client, token: PersonalAccessToken) -> str:
    """What the row's Details disclosure loads on demand."""
    return client.get(f"/people/alice/tokens/{token.uuid}/details/", HTTP_HX_REQUEST="true").content.decode()


def _row(html: str, token: PersonalAccessToken) -> str:
    """The token's main row and its details row."""
    start = html.index(f'<tr id="token-{token.uuid}"')
    end = html.find('<tr id="token-', start + 10)
    return html[start : end if end != -1 else len(html)]


def test_a_token_never_used_says_so_once_in_its_row(admin_client, demo):
    token, _raw = demo.token(demo.alice, label="fresh", expires_in=timedelta(days=30))
    row = _row(admin_client.get("/people/alice/tokens/").content.decode(), token)
    assert '<span class="status status-active">Active</span>' in row
    assert row.count("Never used") == 1 and '<span class="muted">Never used</span>' in row


def test_idle_starts_exactly_thirty_days_after_the_last_use(demo):
    with time_machine.travel(T0, tick=False):
        token, raw = demo.token(demo.alice, label="quiet", expires_in=timedelta(days=90))
        PersonalAccessToken.objects.authenticate(raw, ip="192.0.2.1", protocol="REST")
    client = Client()
    with time_machine.travel(T0 + timedelta(days=30) - timedelta(seconds=1), tick=False):
        client.force_login(demo.admin)
        row = _row(client.get("/people/alice/tokens/").content.decode(), token)
        assert ">Idle</span>" not in row and ">Never used</span>" not in row
    with time_machine.travel(T0 + timedelta(days=30), tick=False):
        row = _row(client.get("/people/alice/tokens/").content.decode(), token)
        assert '<span class="status status-idle">Idle</span>' in row


def test_expired_tokens_stay_listed_greyed_without_a_rotate_control(demo):
    with time_machine.travel(T0, tick=False):
        token, _raw = demo.token(demo.alice, label="gone", expires_in=timedelta(hours=1))
    client = Client()
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        client.force_login(demo.admin)
        html = client.get("/people/alice/tokens/inactive/", HTTP_HX_REQUEST="true").content.decode()
    row = _row(html, token)
    assert 'class="token-row token-expired"' in row and ">Expired</span>" in row
    assert "Rotate<span" not in row and "Delete<span" in row


def test_a_token_an_admin_issued_for_someone_else_is_marked(admin_client, demo):
    issued, _raw = demo.token(demo.alice, label="by admin", created_by=demo.admin, created_via="console")
    own, _raw = demo.token(demo.alice, label="by alice", created_by=demo.alice, created_via="console")
    html = admin_client.get("/people/alice/tokens/").content.decode()
    assert '<span class="badge badge-info">issued by admin</span>' in _row(html, issued)
    assert "issued by" not in _row(html, own)


def test_a_token_issued_from_the_command_line_is_marked(admin_client, demo):
    token, _raw = demo.token(demo.alice, label="from cron", created_via="cli")
    row = _row(admin_client.get("/people/alice/tokens/").content.decode(), token)
    assert '<span class="badge badge-info">issued from the command line</span>' in row
    assert "by an administrator · command line" in _details(admin_client, token)


def test_the_inventory_marks_a_token_issued_from_the_command_line(admin_client, demo):
    demo.token(demo.alice, label="from cron", created_via="cli")
    html = admin_client.get("/tokens/").content.decode()
    assert '<span class="badge badge-info">issued from the command line</span>' in html


def test_a_row_expands_to_its_last_use_recent_uses_end_and_origin(admin_client, demo):
    with time_machine.travel(T0, tick=False):
        token, raw = demo.token(
            demo.alice, label="synced", expires_in=timedelta(days=10), created_by=demo.admin, created_via="console"
        )
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        PersonalAccessToken.objects.authenticate(raw, ip="192.0.2.1", protocol="REST", user_agent="curl/8.5.0")
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        PersonalAccessToken.objects.authenticate(raw, ip="198.51.100.7", protocol="WebDAV", user_agent="rclone/v1.66")
        row = _row(admin_client.get("/people/alice/tokens/").content.decode(), token)
    # A native disclosure, named after the token through its label cell, that loads the details as it opens.
    assert (
        f'<summary id="more-{token.uuid}" aria-labelledby="more-{token.uuid} label-{token.uuid}">Details</summary>'
        in row
    )
    assert f'id="label-{token.uuid}">synced</span>' in row
    details = _details(admin_client, token)
    # The full last use.
    assert "2026-03-02 11:00:00 UTC" in text_of(details) and "from 198.51.100.7 over WebDAV" in details
    assert "rclone/v1.66" in details
    # The absolute end and who created it, how.
    assert "Ends at the latest" in details and "2026-03-12 09:00:00 UTC" in text_of(details)
    assert "2026-03-02 09:00:00 UTC" in text_of(details) and "by admin · console" in details
    # Recent uses, newest first, with first and last seen.
    uses = details[details.index("Recent uses") :]
    assert uses.index("198.51.100.7") < uses.index("192.0.2.1")
    assert "curl/8.5.0" in uses and ">WebDAV<" in uses and ">REST<" in uses
    assert "2026-03-02 10:00" in text_of(uses) and "2026-03-02 11:00" in text_of(uses)


def test_an_auto_refresh_token_shows_its_absolute_end(admin_client, demo):
    token, _raw = demo.token(demo.alice, refresh_window=timedelta(hours=1), expires_in=timedelta(days=5))
    details = _details(admin_client, token)
    assert f"{token.absolute_end:%Y-%m-%d %H:%M:%S} UTC" in text_of(details).split("Ends at the latest")[1]


def test_a_damaged_recent_use_record_shows_as_unknown_never_a_500(admin_client, demo):
    token, _raw = demo.token(demo.alice)
    bad = [{"ip": "192.0.2.9", "protocol": "REST", "agent": "x", "first_seen": "yesterday", "last_seen": 7}, "junk"]
    PersonalAccessToken.objects.filter(pk=token.pk).update(recent_uses=bad)
    response = admin_client.get(f"/people/alice/tokens/{token.uuid}/details/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "192.0.2.9" in response.content.decode()


def test_details_cost_no_query_however_many_uses(admin_client, demo, django_assert_num_queries):
    tokens = []
    for n in range(4):
        token, raw = demo.token(demo.alice, label=f"t{n}")
        tokens.append(token)
        for k in range(RECENT_USES + 3):
            with time_machine.travel(T0 + timedelta(minutes=2 * k), tick=False):
                PersonalAccessToken.objects.authenticate(raw, ip=f"192.0.2.{k}", protocol="REST")
    # The list carries a disclosure per row and no details: they load on demand.
    html = admin_client.get("/people/alice/tokens/list/", HTTP_HX_REQUEST="true").content.decode()
    assert html.count('<details class="token-details"') == 4 and '<td data-label="IP"' not in html
    # session, signed-in user, owner, the token (with its creator); no scope, so no node query
    with django_assert_num_queries(4):
        html = _details(admin_client, tokens[0])
    assert html.count('<td data-label="IP" class="mono">') == RECENT_USES


# The create dialog and the policy


def _dialog(client: Client, path: str = "/people/alice/tokens/new/") -> str:
    return client.get(path, HTTP_HX_REQUEST="true").content.decode()


@pytest.mark.parametrize(
    ("default", "number", "unit"),
    [
        ("30d", "30", "d"),
        ("2w", "14", "d"),
        ("36h", "36", "h"),
        ("1d12h", "36", "h"),
        ("90m", "90", "m"),
        ("90s", "2", "m"),
    ],
)
def test_the_dialog_offers_the_default_duration(admin_client, demo, settings, default, number, unit):
    settings.TOKEN_DEFAULT_DURATION = default
    html = _dialog(admin_client)
    assert re.search(rf'id="id_duration"[^>]*value="{number}"', html)
    assert f'<option value="{unit}" selected>' in html


def test_the_dialog_shows_the_lifetime_and_per_user_limits(admin_client, demo, settings):
    settings.TOKEN_MAX_LIFETIME = "90d"
    settings.TOKEN_MAX_PER_USER = 3
    demo.token(demo.alice)
    html = _dialog(admin_client)
    assert "a token lives at most 90 days" in html and "alice may hold 3 live tokens (1 live now)" in html


def test_the_dialog_omits_the_per_user_hint_without_a_limit(admin_client, demo, settings):
    settings.TOKEN_MAX_PER_USER = 0
    assert "may hold" not in _dialog(admin_client)


def test_the_per_user_limit_is_refused_in_the_dialog_and_audited(admin_client, demo, settings):
    from tokens.audit import AuditEvent

    settings.TOKEN_MAX_PER_USER = 1
    demo.token(demo.alice)
    response = admin_client.post(
        "/people/alice/tokens/new/",
        {"label": "one too many", "expiration_model": "hard", "duration": "1", "unit": "d"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'role="alert"' in html
    assert "alice already has 1 live token, the most this instance allows. Delete one first." in html
    assert "HX-Trigger" not in response
    assert not PersonalAccessToken.objects.filter(label="one too many").exists()
    refusal = AuditEvent.objects.get(event=AuditEvent.POLICY_REFUSED)
    assert refusal.actor_label == "admin" and refusal.owner_login == "alice" and refusal.via == "console"


def test_the_maximum_lifetime_is_refused_in_the_dialog_for_auto_refresh_too(admin_client, demo, settings):
    settings.TOKEN_MAX_LIFETIME = "7d"
    response = admin_client.post(
        "/people/alice/tokens/new/",
        {"label": "too long", "expiration_model": "auto", "duration": "8", "unit": "d"},
        HTTP_HX_REQUEST="true",
    )
    assert "A token may live at most 7 days on this instance." in response.content.decode()
    assert not PersonalAccessToken.objects.exists()
