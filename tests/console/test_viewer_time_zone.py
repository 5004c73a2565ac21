"""Times in the viewer's zone: a preference of each person, the instance's zone by default."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.html_text import text_of
from tokens.audit import AuditEvent

WINTER = datetime(2027, 1, 3, 13, 0, tzinfo=UTC)


def _token_expiring_at(demo, moment):
    token, _raw = demo.token(demo.alice, label="dated", expires_in=timedelta(days=30))
    type(token).objects.filter(pk=token.pk).update(expires_at=moment)
    return token


def test_times_read_in_the_instance_zone_by_default(alice_client, demo):
    _token_expiring_at(demo, WINTER)
    html = alice_client.get("/me/tokens/").content.decode()
    assert 'datetime="2027-01-03T13:00:00+00:00"' in html and "2027-01-03 13:00 UTC" in text_of(html)


def test_times_read_in_the_zone_the_viewer_prefers(alice_client, demo):
    demo.alice.time_zone = "Europe/Paris"
    demo.alice.save()
    _token_expiring_at(demo, WINTER)
    html = alice_client.get("/me/tokens/").content.decode()
    assert 'datetime="2027-01-03T14:00:00+01:00"' in html and "2027-01-03 14:00 CET" in text_of(html)


def test_a_zone_the_system_no_longer_knows_falls_back_to_the_instances(alice_client, demo):
    demo.alice.time_zone = "Mars/Olympus_Mons"
    demo.alice.save()
    _token_expiring_at(demo, WINTER)
    response = alice_client.get("/me/tokens/")
    assert response.status_code == 200 and "2027-01-03 13:00 UTC" in text_of(response.content.decode())


def test_the_preference_is_saved_and_the_form_redirects(alice_client, demo):
    page = alice_client.get("/me/preferences/").content.decode()
    assert '<option value="" selected>Instance default (UTC)</option>' in page
    assert '<option value="Europe/Paris" >Europe/Paris</option>' in page
    response = alice_client.post("/me/preferences/", {"time_zone": "Europe/Paris"})
    assert response.status_code == 303 and response["Location"] == "/me/preferences/"
    demo.alice.refresh_from_db()
    assert demo.alice.time_zone == "Europe/Paris"
    assert '<option value="Europe/Paris" selected>' in alice_client.get("/me/preferences/").content.decode()


@pytest.mark.parametrize("value", ["Mars/Olympus_Mons", "../../etc/passwd", "x" * 500, "Europe/Paris\x00"])
def test_an_unknown_zone_is_refused_with_a_message(alice_client, demo, value):
    response = alice_client.post("/me/preferences/", {"time_zone": value})
    assert response.status_code == 200 and "Choose a time zone from the list." in response.content.decode()
    demo.alice.refresh_from_db()
    assert demo.alice.time_zone == ""


def test_dates_typed_in_a_filter_are_the_viewers_days(admin_client, demo):
    demo.admin.time_zone = "Pacific/Auckland"
    demo.admin.save()
    # 2027-01-03 05:00 in Auckland (UTC+13) is still 2 January in UTC.
    AuditEvent.objects.create(event=AuditEvent.CREATED, at=datetime(2027, 1, 2, 16, 0, tzinfo=UTC), owner_login="x")
    html = admin_client.get("/audit/", {"since": "2027-01-03", "until": "2027-01-03"}).content.decode()
    assert "1 record" in html


def test_a_token_request_pays_nothing_for_a_preference(client, demo, django_assert_num_queries):
    demo.alice.time_zone = "Europe/Paris"
    demo.alice.save()
    _token, raw = demo.token(demo.alice)
    client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")  # the first use records itself
    with django_assert_num_queries(1):  # the token and its owner, nothing more
        response = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
