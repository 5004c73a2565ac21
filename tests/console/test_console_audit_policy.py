"""/audit/ (the audit trail with its filters), /policy/ (the instance policy) and the console's navigation."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from tests.support.html_text import text_of
from tokens.audit import AuditEvent
from tokens.models import PersonalAccessToken
from tokens.services import token_create, token_delete


def _rows(response) -> list[str]:
    """The event column of each record shown, in order."""
    return re.findall(r'<span class="event event-([a-z_]+)">', response.content.decode())


def _record(at: datetime, event: str = AuditEvent.CREATED, **kwargs: object) -> AuditEvent:
    with time_machine.travel(at, tick=False):
        return AuditEvent.record(event, **kwargs)


def test_the_trail_shows_who_did_what_to_which_token(admin_client, demo):
    token, raw = token_create(
        owner=demo.alice, label="backup", expires_in=timedelta(days=3), actor=demo.admin, via="console", ip="192.0.2.4"
    )
    token_delete(token=token, actor=None, via="cli", reason="laptop lost")
    response = admin_client.get("/audit/")
    html = response.content.decode()
    assert response.status_code == 200 and "<!DOCTYPE html>" in html
    assert _rows(response) == ["deleted", "created"]
    assert ">Token created<" in html and ">Token deleted<" in html
    assert "backup" in html and token.lookup_id in html and "192.0.2.4" in html
    assert "command line" in html and "laptop lost" in html
    # Never a secret (there is none to show, and none leaks).
    assert raw not in html and raw.split("_", 1)[1][12:] not in html


def test_aggregated_refusals_show_their_count(admin_client, demo):
    token, _raw = demo.token(demo.alice, label="target")
    # Three refused uses within one minute from one address: one record, counted.
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, 5, tzinfo=UTC), tick=False):
        for _ in range(3):
            AuditEvent.record_refusal(
                token_id=token.lookup_id, token=token, ip="203.0.113.9", protocol="REST", reason="wrong secret"
            )
    html = admin_client.get("/audit/", {"event": "refused"}).content.decode()
    assert '<strong title="3 refused uses in this minute">×3</strong>' in html
    assert "203.0.113.9" in html and ">Use refused<" in html


def test_aggregated_refusals_show_their_first_and_last_time_to_the_second(admin_client, demo):
    token, _raw = demo.token(demo.alice, label="target")
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, 5, tzinfo=UTC), tick=False) as traveller:
        for _ in range(2):
            AuditEvent.record_refusal(
                token_id=token.lookup_id, token=token, ip="203.0.113.9", protocol="REST", reason="wrong secret"
            )
            traveller.shift(timedelta(seconds=42))
    html = admin_client.get("/audit/", {"event": "refused"}).content.decode()
    assert "2026-03-02 09:00:05 UTC" in text_of(html) and "last 09:00:47 UTC" in text_of(html)
    assert 'datetime="2026-03-02T09:00:47+00:00"' in html


def test_htmx_gets_the_results_fragment(admin_client, demo):
    _record(datetime(2026, 3, 2, tzinfo=UTC), owner=demo.alice, actor=demo.admin, via="console")
    response = admin_client.get("/audit/", {"owner": "ALICE"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<!DOCTYPE html>" not in html and html.lstrip().startswith('<div id="audit-results">')
    assert _rows(response) == ["created"]


def test_the_filter_form_is_driven_as_you_type_with_real_urls(admin_client, demo):
    html = admin_client.get("/audit/").content.decode()
    assert 'method="get" action="/audit/"' in html
    assert 'hx-get="/audit/" hx-trigger="input delay:300ms, submit" hx-target="#audit-results"' in html
    assert 'hx-push-url="true"' in html


def test_actor_owner_and_event_filters(admin_client, demo):
    at = datetime(2026, 3, 2, tzinfo=UTC)
    _record(at, owner=demo.alice, actor=demo.admin, via="console")
    _record(at, owner=demo.bob, actor=None, via="cli")
    _record(at, AuditEvent.DELETED, owner=demo.bob, actor=demo.admin, via="console")
    assert _rows(admin_client.get("/audit/", {"actor": "command line"})) == ["created"]
    assert len(_rows(admin_client.get("/audit/", {"actor": "ADMIN"}))) == 2
    assert len(_rows(admin_client.get("/audit/", {"owner": "bob"}))) == 2
    assert _rows(admin_client.get("/audit/", {"owner": "bob", "event": "deleted"})) == ["deleted"]
    assert "0 records match the filters" in admin_client.get("/audit/", {"owner": "nobody"}).content.decode()


def test_from_and_to_are_whole_days_both_included(admin_client, demo):
    for moment in ("2026-01-30T23:59:59", "2026-01-31T00:00:00", "2026-02-01T23:59:59", "2026-02-02T00:00:00"):
        _record(datetime.fromisoformat(moment).replace(tzinfo=UTC), owner=demo.alice, reason=moment)
    html = admin_client.get("/audit/", {"since": "2026-01-31", "until": "2026-02-01"}).content.decode()
    assert "2026-01-31T00:00:00" in html and "2026-02-01T23:59:59" in html
    assert "2026-01-30T23:59:59" not in html and "2026-02-02T00:00:00" not in html


def test_a_to_date_on_the_last_day_of_the_calendar_shows_every_record(admin_client, demo):
    _record(datetime(2026, 3, 2, tzinfo=UTC), owner=demo.alice)
    response = admin_client.get("/audit/", {"until": "9999-12-31"})
    assert response.status_code == 200 and _rows(response) == ["created"]


def test_a_from_date_on_the_first_day_of_the_calendar_shows_every_record_east_of_utc(admin_client, demo, settings):
    settings.TIME_ZONE = "Asia/Tokyo"
    _record(datetime(2026, 3, 2, tzinfo=UTC), owner=demo.alice)
    response = admin_client.get("/audit/", {"since": "0001-01-01"})
    assert response.status_code == 200 and _rows(response) == ["created"]


def test_a_bad_date_is_explained_and_left_out(admin_client, demo):
    _record(datetime(2026, 3, 2, tzinfo=UTC), owner=demo.alice)
    response = admin_client.get("/audit/", {"since": "yesterday", "event": "nonsense"})
    html = response.content.decode()
    assert response.status_code == 200 and "Give the first day as 2026-01-31." in html
    assert _rows(response) == ["created"]


def test_pages_keep_the_filters_and_cost_the_same_queries(admin_client, demo, django_assert_num_queries):
    with time_machine.travel(datetime(2026, 3, 2, tzinfo=UTC), tick=False):
        AuditEvent.objects.bulk_create(
            [AuditEvent(event=AuditEvent.CREATED, owner_login="alice", actor_label="admin") for _ in range(120)]
        )
    first = admin_client.get("/audit/", {"owner": "alice"}, HTTP_HX_REQUEST="true").content.decode()
    older = re.search(r'href="\?owner=alice&amp;before=([\w-]+)"', first)
    assert older is not None
    # session, signed-in user, capped count, page, whether newer records exist
    with django_assert_num_queries(5):
        response = admin_client.get("/audit/", {"owner": "alice", "before": older[1]}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert len(_rows(response)) == 50 and "120 records match the filters" in html
    assert 'href="?owner=alice"' in html and 'href="?owner=alice&amp;after=' in html
    assert 'href="?owner=alice&amp;before=' in html


# Policy


def test_the_policy_page_shows_each_setting_with_its_variable(admin_client, demo, settings):
    settings.TOKEN_MAX_LIFETIME = "90d"
    settings.TOKEN_DEFAULT_DURATION = "36h"
    settings.TOKEN_MAX_PER_USER = 7
    settings.WEBDAV_ALLOW_PASSWORD = False
    settings.AUTH_FAILURE_LIMIT = 12
    settings.AUTH_FAILURE_WINDOW = 120
    html = admin_client.get("/policy/").content.decode()
    for name in (
        "TOKEN_MAX_LIFETIME",
        "TOKEN_DEFAULT_DURATION",
        "TOKEN_MAX_PER_USER",
        "WEBDAV_ALLOW_PASSWORD",
        "AUTH_FAILURE_LIMIT",
        "AUTH_FAILURE_WINDOW",
        "LOGIN_FAILURE_LIMIT",
    ):
        assert f"<code>{name}</code>" in html
    assert "<strong>90d</strong>" in html and "<strong>36h</strong>" in html and "(offered as 36 Hours)" in html
    assert "<strong>7</strong>" in html and "refused: tokens only" in html
    assert "<strong>12</strong> per 120 s" in html
    assert "Hard Limit" in html and "Auto Refresh" in html and "absolute end" in html


def test_the_policy_page_says_no_limit_and_flags_a_broken_duration(admin_client, demo, settings):
    settings.TOKEN_MAX_PER_USER = 0
    settings.TOKEN_DEFAULT_DURATION = "soon"
    html = admin_client.get("/policy/").content.decode()
    assert "no limit" in html and "soon (not a valid duration)" in html


# Navigation


@pytest.mark.parametrize(
    ("path", "current"),
    [
        ("/people/", "People"),
        ("/people/alice/tokens/", "People"),
        ("/tokens/", "Tokens"),
        ("/audit/", "Audit"),
        ("/policy/", "Policy"),
        ("/me/tokens/", "My tokens"),
    ],
)
def test_the_top_bar_marks_the_current_section(admin_client, demo, path, current):
    html = admin_client.get(path).content.decode()
    nav = html[html.index('<nav class="topnav"') : html.index("</nav>")]
    for name in ("People", "Tokens", "Audit", "Policy", "My tokens"):
        assert f">{name}</a>" in nav
    assert re.findall(r'aria-current="page">([^<]+)</a>', nav) == [current]


def test_people_without_admin_rights_see_only_their_tokens_in_the_top_bar(demo):
    client = Client()
    client.force_login(demo.alice)
    html = client.get("/me/tokens/").content.decode()
    nav = html[html.index('<nav class="topnav"') : html.index("</nav>")]
    assert re.findall(r">([^<]+)</a>", nav) == ["My tokens"]


def test_no_page_shows_a_token_secret(admin_client, demo):
    token, raw = demo.token(demo.alice, label="secretive")
    PersonalAccessToken.objects.authenticate(raw, ip="192.0.2.1", protocol="REST")
    token_delete(token=token, actor=demo.admin, via="console")
    for path in ("/audit/", "/tokens/", "/people/alice/tokens/", "/policy/"):
        assert raw not in admin_client.get(path).content.decode()
