"""/tokens/ and /audit/ page by keyset: First / Newer / Older links that work with and without htmx, a cost that
does not grow with the rows, a LIMIT on every query, and no 500 for a cursor that is not one."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.keyset import encode_cursor
from tests.support.bulk_tokens_support import make_tokens
from tokens.audit import AuditEvent
from tokens.models import PersonalAccessToken

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PAGE = 50


def _labels(html: str) -> list[str]:
    return re.findall(r'<span class="token-label">([^<]*)</span>', html)


def _link(html: str, name: str) -> str | None:
    found = re.search(rf'<a class="button"(?: rel="\w+")? href="([^"]*)"[^>]*>{name}</a>', html)
    return found[1].replace("&amp;", "&") if found else None


def _href(html: str, name: str) -> str:
    link = _link(html, name)
    assert link is not None, f"no {name} link"
    return link


@pytest.fixture
def many(demo, settings):
    """120 tokens of alice's one minute apart, and 5 of bob's: bulk 0 is the oldest."""
    settings.TOKEN_MAX_PER_USER = 0
    make_tokens(demo.alice, 120, start=T0)
    make_tokens(demo.bob, 5, start=T0 - timedelta(days=1))
    return demo


def _alice_labels() -> list[str]:
    return list(
        PersonalAccessToken.objects.filter(owner__login="alice").order_by("-created_at").values_list("label", flat=True)
    )


def test_older_newer_and_first_walk_the_whole_list_without_javascript(admin_client, many):
    everything = _alice_labels()
    first = admin_client.get("/tokens/", {"owner": "alice"}).content.decode()
    assert _labels(first) == everything[:PAGE] and _link(first, "Newer") is None and _link(first, "First") is None
    second = admin_client.get("/tokens/" + _href(first, "Older")).content.decode()
    assert _labels(second) == everything[PAGE : 2 * PAGE]
    third = admin_client.get("/tokens/" + _href(second, "Older")).content.decode()
    assert _labels(third) == everything[2 * PAGE :] and _link(third, "Older") is None
    back = admin_client.get("/tokens/" + _href(third, "Newer")).content.decode()
    assert _labels(back) == everything[PAGE : 2 * PAGE]
    assert _link(third, "First") == "?owner=alice"
    assert "120 tokens match the filters" in third


def test_newer_from_the_second_page_is_the_full_first_page(admin_client, many):
    first = admin_client.get("/tokens/").content.decode()
    second = admin_client.get("/tokens/" + _href(first, "Older")).content.decode()
    again = admin_client.get("/tokens/" + _href(second, "Newer")).content.decode()
    assert _labels(again) == _labels(first) and _link(again, "Newer") is None


def test_htmx_pages_swap_the_results_and_push_the_url(admin_client, many):
    html = admin_client.get("/tokens/", HTTP_HX_REQUEST="true").content.decode()
    older = _href(html, "Older")
    assert f'hx-get="{older.replace("&", "&amp;")}" hx-target="#inventory-results"' in html
    page = admin_client.get("/tokens/" + older, HTTP_HX_REQUEST="true")
    assert page.content.decode().lstrip().startswith('<div id="inventory-results"')
    assert 'hx-push-url="true"' in page.content.decode()


@pytest.mark.parametrize("size", [10, 200])
def test_a_deep_page_costs_the_same_queries_each_with_a_limit(admin_client, demo, settings, size):
    settings.TOKEN_MAX_PER_USER = 0
    make_tokens(demo.alice, size, start=T0)
    oldest_but_one = PersonalAccessToken.objects.order_by("created_at")[1]
    cursor = encode_cursor(oldest_but_one.created_at, oldest_but_one.uuid)
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get("/tokens/", {"status": "never-used", "before": cursor}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and len(_labels(response.content.decode())) == 1
    own = [query["sql"] for query in queries if "tokens_personalaccesstoken" in query["sql"]]
    # capped count, page, whether newer tokens exist
    assert len(own) == 3 and all("LIMIT" in sql for sql in own)
    assert len(queries) == 5  # and the session and the signed-in user


@pytest.mark.parametrize("size", [10, 200])
def test_the_audit_trail_costs_the_same_queries_each_with_a_limit(admin_client, demo, size):
    AuditEvent.objects.bulk_create(
        AuditEvent(event=AuditEvent.REFUSED, owner_login="Alice", at=T0 + timedelta(seconds=n)) for n in range(size)
    )
    first = admin_client.get("/audit/", {"owner": "alice", "event": "refused"}).content.decode()
    older = _link(first, "Older")
    assert (older is not None) == (size > PAGE)
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get("/audit/" + (older or "?owner=alice&event=refused"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    own = [query["sql"] for query in queries if "tokens_auditevent" in query["sql"]]
    assert len(own) == (3 if older else 2) and all("LIMIT" in sql for sql in own)


def test_the_audit_trail_pages_newest_first_and_back(admin_client, demo):
    AuditEvent.objects.bulk_create(
        AuditEvent(event=AuditEvent.CREATED, owner_login="alice", reason=f"r{n}", at=T0) for n in range(60)
    )
    # Sixty records at the same instant: the id orders them, so no record is skipped or shown twice.
    first = admin_client.get("/audit/").content.decode()
    second = admin_client.get("/audit/" + _href(first, "Older")).content.decode()
    reasons = re.findall(r'<div class="cell break">(r\d+)</div>', first + second)
    assert sorted(reasons) == sorted(f"r{n}" for n in range(60))
    assert _link(second, "Older") is None and _link(second, "First") == "?"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cursor=st.text(max_size=80)
    | st.binary(max_size=60).map(lambda raw: __import__("base64").urlsafe_b64encode(raw).decode())
)
def test_a_cursor_that_is_not_one_gives_the_first_page(admin_client, demo, cursor):
    for path in ("/tokens/", "/audit/"):
        for name in ("before", "after"):
            assert admin_client.get(path, {name: cursor.replace("\x00", "")}).status_code == 200


@pytest.mark.parametrize(
    "plain",
    ["0001-01-01T00:00:00+05:00|1", "9999-12-31T23:59:59+00:00|99999999999999999999999", "2026-03-02T09:00:00|1"],
)
def test_cursors_off_the_calendar_or_past_a_bigint_give_the_first_page(admin_client, demo, plain):
    cursor = base64.urlsafe_b64encode(plain.encode()).decode()
    for path in ("/tokens/", "/audit/"):
        assert admin_client.get(path, {"before": cursor}).status_code == 200


def test_label_search_finds_a_label_across_users(admin_client, demo):
    demo.token(demo.alice, label="Nightly backup script")
    demo.token(demo.bob, label="backup script (bob)")
    demo.token(demo.bob, label="deploy")
    html = admin_client.get("/tokens/", {"label": "BACKUP SCRIPT"}).content.decode()
    assert sorted(_labels(html)) == ["Nightly backup script", "backup script (bob)"]
    assert "Part of the label" in html and "The exact login, in any case." in html


def test_bulk_delete_from_an_older_page_returns_to_that_page(admin_client, many):
    first = admin_client.get("/tokens/", {"owner": "alice"}).content.decode()
    older = _href(first, "Older")
    second = admin_client.get("/tokens/" + older).content.decode()
    chosen = re.findall(r'name="token" value="([0-9a-f-]+)"', second)[:3]
    filters = re.findall(r'name="filters" value="([^"]*)"', second)[0].replace("&amp;", "&")
    response = admin_client.post("/tokens/delete/", {"token": chosen, "filters": filters, "reason": "old"})
    assert response.status_code == 302 and response["Location"] == "/tokens/" + older
    assert PersonalAccessToken.objects.filter(uuid__in=chosen).count() == 0
    after = admin_client.get(response["Location"]).content.decode()
    assert len(_labels(after)) == PAGE and "117 tokens match the filters" in after
