"""The one-time reveal after Generate and Rotate: a panel on the tab (never a dialog that Escape closes), and
without JavaScript Post/Redirect/Get, so that a reload never creates a second token and the secret shows once."""

from __future__ import annotations

import json
from datetime import timedelta

import time_machine
from django.utils import timezone

from console import reveal
from tests.support.reveal_support import raw_token, revealed
from tokens.models import PersonalAccessToken

FIELDS = {"label": "backup", "expiration_model": "hard", "duration": "3", "unit": "d"}


def _create(client, path="/people/alice/tokens/new/", **headers):
    return client.post(path, FIELDS, **headers)


def test_by_htmx_the_secret_goes_to_the_panel_of_the_tab_and_the_dialog_closes_after(admin_client, demo):
    response = _create(admin_client, HTTP_HX_REQUEST="true")
    assert (response["HX-Retarget"], response["HX-Reswap"]) == ("#reveal-slot", "innerHTML")
    assert json.loads(response["HX-Trigger"]) == {"tokensChanged": {"message": "Token “backup” created."}}
    assert json.loads(response["HX-Trigger-After-Settle"]) == {"closeDialog": {}}
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card reveal"') and "<dialog" not in html


def test_the_tab_has_the_slot_the_panel_goes_to(admin_client, demo):
    assert '<div id="reveal-slot"></div>' in admin_client.get("/people/alice/tokens/").content.decode()


def test_the_example_line_shows_only_the_public_part_and_the_secret_behind_a_toggle(admin_client, demo):
    response = _create(admin_client, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    raw = raw_token(response)
    token = PersonalAccessToken.objects.get()
    assert f'Bearer cpat_{token.lookup_id}…" http://testserver/api/v1/me' in html
    # Twice in all: the Token field and the full command inside the disclosure, never in the visible line.
    assert html.count(raw) == 2
    toggle = html[html.index('<details class="secret-example">') :]
    assert raw in toggle[: toggle.index("</details>")]


def test_the_copy_button_is_hidden_until_the_script_shows_it(admin_client, demo):
    html = _create(admin_client, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-copy="new-token" hidden>' in html


def test_usage_hints_name_the_host_the_console_is_reached_on(admin_client, demo):
    html = _create(admin_client, HTTP_HX_REQUEST="true", HTTP_HOST="localhost:9000").content.decode()
    assert "http://localhost:9000/api/v1/me" in html and "http://localhost:9000/dav/" in html


def test_usage_hints_name_public_url_when_the_instance_sets_it(admin_client, demo, settings):
    settings.PUBLIC_URL = "https://files.example.com/"
    html = _create(admin_client, HTTP_HX_REQUEST="true").content.decode()
    assert "https://files.example.com/api/v1/me" in html and "https://files.example.com/dav/" in html
    assert "testserver" not in html


def test_without_javascript_create_redirects_and_the_tab_shows_the_secret_once(admin_client, demo):
    response = _create(admin_client)
    assert response.status_code == 303 and response["Location"] == "/people/alice/tokens/"
    first = admin_client.get("/people/alice/tokens/")
    raw = revealed(first.content.decode())
    assert raw and PersonalAccessToken.objects.authenticate(raw).label == "backup"
    assert "no-store" in first["Cache-Control"]
    assert first.cookies[reveal.COOKIE].value == "" and first.cookies[reveal.COOKIE]["max-age"] == 0
    # A reload is a GET of the tab: no second token, and the secret is gone.
    again = admin_client.get("/people/alice/tokens/")
    assert revealed(again.content.decode()) is None and PersonalAccessToken.objects.count() == 1


def test_the_waiting_secret_is_in_neither_the_session_nor_the_cookie_alone(admin_client, demo):
    response = _create(admin_client)
    held = admin_client.session[reveal.SESSION_KEY]
    pad = response.cookies[reveal.COOKIE]
    assert pad["httponly"] and pad["samesite"] == "Strict" and int(pad["max-age"]) == reveal.LIFETIME_SECONDS
    raw = raw_token(response, admin_client)
    secret = raw[len("cpat_") + 12 : -6]
    assert secret not in json.dumps(held) and secret not in pad.value


def test_a_reveal_waits_for_the_tab_of_its_owner(admin_client, demo):
    _create(admin_client)
    assert revealed(admin_client.get("/people/bob/tokens/").content.decode()) is None
    assert revealed(admin_client.get("/people/alice/tokens/").content.decode()) is not None


def test_an_abandoned_reveal_is_not_shown_later(admin_client, demo):
    _create(admin_client)
    with time_machine.travel(timezone.now() + timedelta(seconds=reveal.LIFETIME_SECONDS + 1)):
        html = admin_client.get("/people/alice/tokens/").content.decode()
    assert revealed(html) is None and reveal.SESSION_KEY not in admin_client.session


def test_without_the_pad_the_reveal_shows_nothing_and_never_a_500(admin_client, demo):
    _create(admin_client)
    admin_client.cookies.pop(reveal.COOKIE)
    response = admin_client.get("/people/alice/tokens/")
    assert response.status_code == 200 and revealed(response.content.decode()) is None


def test_a_damaged_session_entry_is_dropped_never_a_500(admin_client, demo):
    session = admin_client.session
    session[reveal.SESSION_KEY] = {"token": "not a uuid", "sealed": "%%%"}
    session.save()
    response = admin_client.get("/people/alice/tokens/")
    assert response.status_code == 200 and reveal.SESSION_KEY not in admin_client.session


def test_rotation_by_htmx_names_the_new_row_for_focus_to_return_to(admin_client, demo):
    old, _raw = demo.token(demo.alice, label="sync")
    response = admin_client.post(f"/people/alice/tokens/{old.uuid}/rotate/", HTTP_HX_REQUEST="true")
    new = PersonalAccessToken.objects.get(revoked_at=None)
    assert f'data-return-to="token-{new.uuid}"' in response.content.decode()


def test_a_head_of_the_tab_never_spends_the_one_showing_of_the_secret(admin_client, demo):
    _create(admin_client)
    head = admin_client.head("/people/alice/tokens/")
    assert head.status_code == 200 and head.content == b""
    raw = revealed(admin_client.get("/people/alice/tokens/").content.decode())
    assert raw and PersonalAccessToken.objects.authenticate(raw).label == "backup"
