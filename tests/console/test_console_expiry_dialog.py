"""The create dialog says when the token will expire, offers the usual lifetimes and a Weeks unit, and takes an
Auto Refresh token's last day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.support.html_text import text_of
from tokens.models import PersonalAccessToken

# A day after the suite signs in (a later day would outlive the session).
NOW = datetime(2026, 12, 5, 13, 0, tzinfo=UTC)
FIELDS = {"label": "dated", "expiration_model": "hard", "duration": "3", "unit": "d"}


def test_the_dialog_says_when_the_default_token_would_expire(alice_client, demo):
    with time_machine.travel(NOW, tick=False):
        html = alice_client.get("/me/tokens/new/", HTTP_HX_REQUEST="true").content.decode()
    assert "This token will expire on 2027-01-04 13:00 UTC." in text_of(html)
    assert 'aria-describedby="id_expiry_preview id_duration_hint"' in html
    assert 'data-preset="7"' in html and 'data-preset="90"' in html and '<option value="w"' in html


def test_the_preview_is_in_the_viewers_zone(alice_client, demo):
    demo.alice.time_zone = "Europe/Paris"
    demo.alice.save()
    with time_machine.travel(NOW, tick=False):
        html = alice_client.get("/me/tokens/new/").content.decode()
    assert 'data-zone="Europe/Paris"' in html and "2027-01-04 14:00 CET" in text_of(html)


def test_a_refused_form_previews_what_was_typed(alice_client, demo):
    with time_machine.travel(NOW, tick=False):
        html = alice_client.post(
            "/me/tokens/new/", {**FIELDS, "label": "", "duration": "2", "unit": "w"}, HTTP_HX_REQUEST="true"
        ).content.decode()
    assert "2026-12-19 13:00 UTC" in text_of(html)


def test_a_week_is_a_unit(alice_client, demo):
    with time_machine.travel(NOW, tick=False):
        alice_client.post("/me/tokens/new/", {**FIELDS, "duration": "2", "unit": "w"}, HTTP_HX_REQUEST="true")
    assert PersonalAccessToken.objects.get().expires_at == NOW + timedelta(weeks=2)


def test_an_auto_refresh_token_ends_at_the_end_of_its_last_day_in_the_viewers_zone(alice_client, demo):
    demo.alice.time_zone = "Europe/Paris"
    demo.alice.save()
    fields = {**FIELDS, "expiration_model": "auto", "duration": "1", "unit": "h", "ends_on": "2026-12-12"}
    with time_machine.travel(NOW, tick=False):
        alice_client.post("/me/tokens/new/", fields, HTTP_HX_REQUEST="true")
    token = PersonalAccessToken.objects.get()
    assert token.absolute_end == datetime(2026, 12, 12, 23, 0, tzinfo=UTC)  # midnight in Paris
    assert token.refresh_window == timedelta(hours=1)


@pytest.mark.parametrize(
    ("ends_on", "message"),
    [("10/01/2027", "Give the last day as 2027-01-31."), ("2026-12-01", "The end must be in the future.")],
)
def test_a_bad_last_day_is_explained(alice_client, demo, ends_on, message):
    fields = {**FIELDS, "expiration_model": "auto", "duration": "1", "unit": "h", "ends_on": ends_on}
    with time_machine.travel(NOW, tick=False):
        html = alice_client.post("/me/tokens/new/", fields, HTTP_HX_REQUEST="true").content.decode()
    assert message in html and not PersonalAccessToken.objects.exists()
