"""/tokens/: every token of the instance for administrators, its filters and the bulk delete."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from tokens.audit import AuditEvent
from tokens.models import PersonalAccessToken

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _labels(response) -> set[str]:
    html = response.content.decode()
    return {part.split("</span>", 1)[0] for part in html.split('<span class="token-label">')[1:]}


def test_lists_every_users_tokens_as_a_page(admin_client, demo):
    demo.token(demo.alice, label="alice's")
    demo.token(demo.bob, label="bob's", created_by=demo.admin)
    response = admin_client.get("/tokens/")
    html = response.content.decode()
    assert response.status_code == 200 and "<!DOCTYPE html>" in html
    assert _labels(response) == {"alice&#x27;s", "bob&#x27;s"}
    assert '<a href="/people/bob/tokens/">bob</a>' in html and "issued by admin" in html
    assert "2 tokens" in html


def test_htmx_gets_the_results_fragment_that_refreshes_on_tokens_changed(admin_client, demo):
    demo.token(demo.alice, label="listed")
    response = admin_client.get("/tokens/", {"owner": "alice"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<!DOCTYPE html>" not in html and html.lstrip().startswith('<div id="inventory-results"')
    assert 'hx-get="/tokens/?owner=alice" hx-trigger="tokensChanged from:body"' in html
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize("path", ["/tokens/", "/tokens/delete/", "/audit/", "/policy/"])
def test_instance_pages_are_for_administrators_only(alice_client, client, demo, path):
    assert alice_client.get(path).status_code == 403
    assert alice_client.get(path, HTTP_HX_REQUEST="true").status_code == 403
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_query_count_does_not_grow_with_the_tokens(admin_client, demo, django_assert_num_queries):
    for n in range(12):
        demo.token([demo.alice, demo.bob][n % 2], label=f"t{n}", created_by=demo.admin, expires_in=timedelta(days=30))
    # session, signed-in user, capped count, the page of tokens with owners and creators
    with django_assert_num_queries(4):
        response = admin_client.get("/tokens/", {"status": "active"}, HTTP_HX_REQUEST="true")
    assert len(_labels(response)) == 12


def test_pages_of_fifty_keep_the_filters_in_their_links(admin_client, demo, settings):
    settings.TOKEN_MAX_PER_USER = 0
    for n in range(51):
        demo.token(demo.alice, label=f"t{n}")
    html = admin_client.get("/tokens/", {"owner": "alice"}).content.decode()
    older = re.search(r'href="\?owner=alice&amp;before=([\w-]+)"', html)
    assert older is not None and "51 tokens match the filters" in html
    second = admin_client.get("/tokens/", {"owner": "alice", "before": older[1]})
    assert _labels(second) == {"t0"}
    assert admin_client.get("/tokens/", {"page": "nonsense"}).status_code == 200


# Filters at their boundaries


def test_owner_filter(admin_client, demo):
    demo.token(demo.alice, label="a")
    demo.token(demo.bob, label="b")
    assert _labels(admin_client.get("/tokens/", {"owner": "BOB"})) == {"b"}
    assert _labels(admin_client.get("/tokens/", {"owner": "bo"})) == set()


@pytest.fixture
def statuses(demo):
    """At T0 + 40 days: one token of each status."""
    with time_machine.travel(T0, tick=False):
        demo.token(demo.alice, label="expired", expires_in=timedelta(days=40))
        demo.token(demo.alice, label="idle", expires_in=timedelta(days=100))
        _t, raw = demo.token(demo.alice, label="used", expires_in=timedelta(days=100))
    # Last used 30 days before the look: idle from that very instant.
    PersonalAccessToken.objects.filter(label="idle").update(last_used_at=T0 + timedelta(days=10))
    with time_machine.travel(T0 + timedelta(days=39), tick=False):
        PersonalAccessToken.objects.authenticate(raw)
        # 30 hours: a day later, in the last quarter of its life.
        demo.token(demo.alice, label="soon", expires_in=timedelta(hours=30))


@pytest.mark.parametrize(
    ("status", "labels"),
    [
        ("expired", {"expired"}),
        ("expiring", {"soon"}),
        ("active", {"idle", "used"}),
        ("never-used", {"expired", "soon"}),
        ("idle", {"idle"}),
        ("", {"expired", "idle", "used", "soon"}),
    ],
)
def test_status_filter(demo, statuses, status, labels):
    client = Client()
    with time_machine.travel(T0 + timedelta(days=40), tick=False):
        client.force_login(demo.admin)
        assert _labels(client.get("/tokens/", {"status": status})) == labels


def test_expiring_within_includes_its_last_instant_and_never_the_expired(demo):
    with time_machine.travel(T0, tick=False):
        demo.token(demo.alice, label="three days", expires_in=timedelta(days=3))
        demo.token(demo.alice, label="three days and a second", expires_in=timedelta(days=3, seconds=1))
        demo.token(demo.alice, label="a minute", expires_in=timedelta(minutes=1))
    client = Client()
    with time_machine.travel(T0, tick=False):
        client.force_login(demo.admin)
        assert _labels(client.get("/tokens/", {"expiring_within": "3"})) == {"three days", "a minute"}
        assert _labels(client.get("/tokens/", {"expiring_within": "0"})) == set()
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        assert _labels(client.get("/tokens/", {"expiring_within": "3"})) == {"three days", "three days and a second"}


def test_unused_since_a_number_of_days(demo):
    with time_machine.travel(T0 - timedelta(days=60), tick=False):
        for label in ("used at the moment", "used a second before", "never used, older"):
            demo.token(demo.alice, label=label, expires_in=timedelta(days=300))
    moment = T0 - timedelta(days=30)
    PersonalAccessToken.objects.filter(label="used at the moment").update(last_used_at=moment)
    PersonalAccessToken.objects.filter(label="used a second before").update(last_used_at=moment - timedelta(seconds=1))
    with time_machine.travel(T0 - timedelta(days=1), tick=False):
        demo.token(demo.alice, label="never used, newer", expires_in=timedelta(days=300))
    client = Client()
    with time_machine.travel(T0, tick=False):
        client.force_login(demo.admin)
        expected = {"used a second before", "never used, older"}
        assert _labels(client.get("/tokens/", {"unused_since": "30"})) == expected
        assert _labels(client.get("/tokens/", {"unused_since": "30d"})) == expected


def test_unused_since_a_date_starts_at_its_midnight(demo):
    with time_machine.travel(T0 - timedelta(days=60), tick=False):
        demo.token(demo.alice, label="on the day", expires_in=timedelta(days=300))
        demo.token(demo.alice, label="the evening before", expires_in=timedelta(days=300))
    day = datetime(2026, 1, 31, tzinfo=UTC)
    PersonalAccessToken.objects.filter(label="on the day").update(last_used_at=day)
    PersonalAccessToken.objects.filter(label="the evening before").update(last_used_at=day - timedelta(seconds=1))
    client = Client()
    with time_machine.travel(T0, tick=False):
        client.force_login(demo.admin)
        assert _labels(client.get("/tokens/", {"unused_since": "2026-01-31"})) == {"the evening before"}


def test_unused_since_the_first_day_of_the_calendar_east_of_utc_matches_nothing(admin_client, demo, settings):
    settings.TIME_ZONE = "Asia/Tokyo"
    demo.token(demo.alice, label="never used")
    response = admin_client.get("/tokens/", {"unused_since": "0001-01-01"})
    assert response.status_code == 200 and _labels(response) == set()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"unused_since": "last tuesday"}, "Give a date (2026-01-31), a number of days (30)"),
        ({"expiring_within": "-1"}, "Give a number of days from 0 to 3650."),
        ({"expiring_within": "many"}, "Give a number of days from 0 to 3650."),
        ({"status": "dormant"}, "Select a valid choice"),
        ({"unused_since": "99999999999999999999"}, ""),
        ({"unused_since": "2026-02-30"}, "Give a date (2026-01-31), a number of days (30)"),
    ],
)
def test_a_bad_filter_is_explained_and_left_out(admin_client, demo, query, message):
    demo.token(demo.alice, label="kept")
    response = admin_client.get("/tokens/", query)
    assert response.status_code == 200
    assert message in response.content.decode()
    if message:
        assert _labels(response) == {"kept"}


# Bulk delete


def test_each_row_has_a_checkbox_named_after_the_token(admin_client, demo):
    token, _raw = demo.token(demo.alice, label="nightly")
    html = admin_client.get("/tokens/").content.decode()
    assert f'name="token" value="{token.uuid}" aria-label="Select nightly of alice"' in html
    assert 'hx-get="/tokens/delete/" hx-include="closest form"' in html


def test_the_confirmation_names_how_many_and_which(admin_client, demo):
    one, _raw = demo.token(demo.alice, label="one")
    two, _raw = demo.token(demo.bob, label="two")
    demo.token(demo.bob, label="kept")
    response = admin_client.get(
        "/tokens/delete/", {"token": [str(one.uuid), str(two.uuid), "junk"]}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert html.lstrip().startswith("<dialog") and "Delete 2 tokens?" in html
    assert "<strong>one</strong>" in html and "<strong>two</strong>" in html and "kept" not in html
    assert ">Delete 2 tokens</button>" in html and 'name="reason"' in html


def test_the_confirmation_without_a_choice_says_so(admin_client, demo):
    html = admin_client.get("/tokens/delete/", HTTP_HX_REQUEST="true").content.decode()
    assert "No token chosen" in html and "Delete 0" not in html


def test_bulk_delete_deletes_exactly_the_chosen_tokens_each_audited_with_the_reason(admin_client, demo):
    chosen = [demo.token(demo.alice, label="a"), demo.token(demo.bob, label="b")]
    kept, kept_raw = demo.token(demo.alice, label="kept")
    response = admin_client.post(
        "/tokens/delete/",
        {"token": [str(token.uuid) for token, _raw in chosen], "reason": "offboarding"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    trigger = json.loads(response["HX-Trigger"])
    assert trigger["tokensChanged"] == {"message": "2 tokens deleted."} and "closeDialog" in trigger
    assert list(PersonalAccessToken.objects.filter(revoked_at=None).values_list("uuid", flat=True)) == [kept.uuid]
    for _token, raw in chosen:
        assert PersonalAccessToken.objects.authenticate(raw) is None
    assert PersonalAccessToken.objects.authenticate(kept_raw) is not None
    events = AuditEvent.objects.filter(event=AuditEvent.DELETED)
    assert {(e.token_id, e.owner_login, e.actor_label, e.via, e.reason) for e in events} == {
        (chosen[0][0].lookup_id, "alice", "admin", "console", "offboarding"),
        (chosen[1][0].lookup_id, "bob", "admin", "console", "offboarding"),
    }


def test_bulk_delete_emails_each_owner_once(admin_client, demo, mailoutbox, django_capture_on_commit_callbacks):
    chosen = [demo.token(demo.alice, label="a"), demo.token(demo.alice, label="b"), demo.token(demo.bob, label="c")]
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/tokens/delete/",
            {"token": [str(token.uuid) for token, _raw in chosen], "reason": "offboarding"},
            HTTP_HX_REQUEST="true",
        )
    assert sorted((message.to[0], message.subject) for message in mailoutbox) == [
        ("alice@example.com", "2 of your personal access tokens were deleted"),
        ("bob@example.com", 'Your personal access token "c" was deleted'),
    ]
    assert not any(raw in message.body for message in mailoutbox for _token, raw in chosen)


def test_bulk_delete_without_htmx_returns_to_the_filtered_inventory(admin_client, demo):
    token, _raw = demo.token(demo.alice)
    response = admin_client.post("/tokens/delete/", {"token": str(token.uuid), "filters": "owner=alice&status=active"})
    assert response.status_code == 302 and response["Location"] == "/tokens/?owner=alice&status=active"
    assert not PersonalAccessToken.objects.filter(revoked_at=None).exists()


def test_the_return_address_cannot_leave_the_inventory(admin_client, demo):
    token, _raw = demo.token(demo.alice)
    response = admin_client.post("/tokens/delete/", {"token": str(token.uuid), "filters": "//evil.example/x"})
    assert response["Location"].startswith("/tokens/?")


def test_bulk_delete_of_nothing_deletes_nothing(admin_client, demo):
    demo.token(demo.alice)
    response = admin_client.post("/tokens/delete/", {"token": ["junk"]}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "No token chosen" in response.content.decode()
    assert "HX-Trigger" not in response and PersonalAccessToken.objects.count() == 1


def test_bulk_delete_with_a_too_long_reason_deletes_nothing(admin_client, demo):
    token, _raw = demo.token(demo.alice)
    response = admin_client.post(
        "/tokens/delete/", {"token": str(token.uuid), "reason": "x" * 501}, HTTP_HX_REQUEST="true"
    )
    assert "at most 500 characters" in response.content.decode()
    assert response["HX-Retarget"] == "#bulk-delete-body"
    assert PersonalAccessToken.objects.count() == 1


def test_bulk_delete_needs_csrf(demo):
    client = Client(enforce_csrf_checks=True)
    client.force_login(demo.admin)
    token, _raw = demo.token(demo.alice)
    assert client.post("/tokens/delete/", {"token": str(token.uuid)}, HTTP_HX_REQUEST="true").status_code == 403
    assert PersonalAccessToken.objects.count() == 1


def test_non_admins_cannot_bulk_delete(alice_client, demo):
    token, _raw = demo.token(demo.alice)
    assert alice_client.post("/tokens/delete/", {"token": str(token.uuid)}).status_code == 403
    assert PersonalAccessToken.objects.count() == 1


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/tokens/", {"owner": "a\x00b", "status": "\x00", "expiring_within": "\x00", "unused_since": "3\x00"}),
        ("/audit/", {"actor": "a\x00", "owner": "\x00", "event": "x\x00", "since": "2026\x00", "until": "\x00"}),
        ("/tokens/delete/", {"token": "\x00"}),
    ],
)
def test_nul_bytes_in_filters_are_refused_never_a_500(admin_client, demo, path, data):
    response = admin_client.get(path, data)
    assert response.status_code == 200


def test_nul_bytes_in_a_reason_delete_nothing(admin_client, demo):
    token, _raw = demo.token(demo.alice)
    response = admin_client.post("/tokens/delete/", {"token": str(token.uuid), "reason": "a\x00b"})
    assert response.status_code == 200 and PersonalAccessToken.objects.count() == 1
    response = admin_client.post(f"/people/alice/tokens/{token.uuid}/delete/", {"reason": "a\x00b"})
    assert response.status_code == 200 and PersonalAccessToken.objects.count() == 1
