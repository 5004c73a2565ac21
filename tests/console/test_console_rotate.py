"""Rotating a token from the PAT tab, and deleting one with a reason."""

from __future__ import annotations

import json
from datetime import timedelta

import time_machine
from django.test import Client
from django.utils import timezone

from tests.support.reveal_support import raw_token
from tokens.audit import AuditEvent
from tokens.models import PersonalAccessToken


def test_each_live_row_has_a_rotate_control_named_after_the_label(admin_client, demo):
    token, _raw = demo.token(demo.alice, label="nightly sync")
    html = admin_client.get("/people/alice/tokens/").content.decode()
    assert f'hx-get="/people/alice/tokens/{token.uuid}/rotate/"' in html
    assert 'Rotate<span class="visually-hidden"> nightly sync</span>' in html


def test_rotate_confirmation_is_a_dialog_by_htmx_and_a_page_without(admin_client, demo):
    token, _raw = demo.token(demo.alice, label="nightly sync")
    response = admin_client.get(f"/people/alice/tokens/{token.uuid}/rotate/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith("<dialog") and "data-onload-showmodal" in html
    assert "Rotate “nightly sync”?" in html and ">Rotate token</button>" in html
    page = admin_client.get(f"/people/alice/tokens/{token.uuid}/rotate/").content.decode()
    assert "<!DOCTYPE html>" in page and "<dialog" not in page and ">Rotate token</button>" in page


def test_rotation_reveals_a_new_token_once_that_works_with_identical_scopes(admin_client, demo):
    alpha, paper = demo.node("/common/projects/alpha"), demo.node("/research/paper.txt")
    old, old_raw = demo.token(
        demo.alice,
        label="sync",
        refresh_window=timedelta(hours=2),
        expires_in=timedelta(days=20),
        scopes=[f"node:{alpha.uuid}:rw", f"node:{paper.uuid}:r"],
    )
    response = admin_client.post(f"/people/alice/tokens/{old.uuid}/rotate/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert json.loads(response["HX-Trigger"]) == {"tokensChanged": {"message": "Token “sync” rotated."}}
    html = response.content.decode()
    # Revealed exactly as on create: in the panel of the tab, the dialog closed.
    assert (response["HX-Retarget"], response["HX-Reswap"]) == ("#reveal-slot", "innerHTML")
    assert "<!DOCTYPE html>" not in html and "Token “sync” rotated" in html
    assert ">Token</label>" in html and "will not be shown again" in html
    raw = raw_token(response)
    assert f'curl -H "Authorization: Bearer {raw}" http://testserver/api/v1/me' in html
    assert "http://testserver/dav/" in html
    assert PersonalAccessToken.objects.authenticate(old_raw) is None
    new = PersonalAccessToken.objects.authenticate(raw)
    assert new is not None and new.uuid != old.uuid
    assert (new.owner, new.label, new.expiration_model, new.refresh_window) == (
        demo.alice,
        "sync",
        old.expiration_model,
        old.refresh_window,
    )
    assert new.scopes == old.scopes
    assert new.created_by == demo.admin and new.created_via == "console"


def test_rotation_is_audited_with_actor_and_the_replaced_id(admin_client, demo):
    old, _raw = demo.token(demo.alice, label="sync")
    admin_client.post(f"/people/alice/tokens/{old.uuid}/rotate/", HTTP_HX_REQUEST="true")
    event = AuditEvent.objects.get(event=AuditEvent.ROTATED)
    assert (event.actor_label, event.owner_login, event.via, event.ip) == ("admin", "alice", "console", "127.0.0.1")
    assert old.lookup_id in event.reason


def test_rotation_without_htmx_shows_the_token_on_the_tab_it_redirects_to(admin_client, demo):
    old, _raw = demo.token(demo.alice)
    response = admin_client.post(f"/people/alice/tokens/{old.uuid}/rotate/")
    assert response.status_code == 303 and response["Location"] == "/people/alice/tokens/"
    assert PersonalAccessToken.objects.authenticate(raw_token(response, admin_client)) is not None


def test_an_expired_token_is_not_rotated_and_the_dialog_says_why(admin_client, demo):
    token, _raw = demo.token(demo.alice, label="old", expires_in=timedelta(minutes=5))
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        shown = admin_client.get(f"/people/alice/tokens/{token.uuid}/rotate/", HTTP_HX_REQUEST="true")
        response = admin_client.post(f"/people/alice/tokens/{token.uuid}/rotate/", HTTP_HX_REQUEST="true")
    message = "A token that has expired or was deleted cannot be rotated; create a new one."
    assert message in shown.content.decode() and ">Rotate token</button>" not in shown.content.decode()
    html = response.content.decode()
    assert response.status_code == 200 and 'role="alert"' in html and message in html
    assert "HX-Trigger" not in response and 'id="new-token"' not in html
    assert list(PersonalAccessToken.objects.values_list("uuid", flat=True)) == [token.uuid]
    assert not AuditEvent.objects.filter(event=AuditEvent.ROTATED).exists()


def test_users_rotate_their_own_tokens_under_me(alice_client, demo):
    token, old_raw = demo.token(demo.alice)
    response = alice_client.post(f"/me/tokens/{token.uuid}/rotate/", HTTP_HX_REQUEST="true")
    new = PersonalAccessToken.objects.authenticate(raw_token(response))
    assert new is not None and new.owner == demo.alice and new.created_by == demo.alice
    assert PersonalAccessToken.objects.authenticate(old_raw) is None


def test_a_crafted_url_cannot_rotate_another_users_token(admin_client, alice_client, demo):
    bobs, raw = demo.token(demo.bob, label="bob's")
    assert admin_client.post(f"/people/alice/tokens/{bobs.uuid}/rotate/").status_code == 404
    assert alice_client.post(f"/me/tokens/{bobs.uuid}/rotate/").status_code == 404
    assert alice_client.get(f"/me/tokens/{bobs.uuid}/rotate/").status_code == 404
    assert PersonalAccessToken.objects.authenticate(raw) is not None
    assert PersonalAccessToken.objects.count() == 1


def test_non_admins_cannot_rotate_under_people(alice_client, demo):
    bobs, raw = demo.token(demo.bob)
    assert alice_client.get(f"/people/bob/tokens/{bobs.uuid}/rotate/").status_code == 403
    assert alice_client.post(f"/people/bob/tokens/{bobs.uuid}/rotate/").status_code == 403
    assert PersonalAccessToken.objects.authenticate(raw) is not None


def test_rotate_without_csrf_token_is_refused(demo):
    client = Client(enforce_csrf_checks=True)
    client.force_login(demo.admin)
    token, raw = demo.token(demo.alice)
    assert client.post(f"/people/alice/tokens/{token.uuid}/rotate/", HTTP_HX_REQUEST="true").status_code == 403
    assert PersonalAccessToken.objects.authenticate(raw) is not None


def test_rotate_refuses_other_methods(admin_client, demo):
    token, _raw = demo.token(demo.alice)
    assert admin_client.put(f"/people/alice/tokens/{token.uuid}/rotate/").status_code == 405


def test_a_token_cannot_rotate_itself(client, demo):
    token, raw = demo.token(demo.alice)
    response = client.post(f"/me/tokens/{token.uuid}/rotate/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code in (302, 403)
    assert PersonalAccessToken.objects.get().uuid == token.uuid


# Delete with a reason


def test_the_delete_dialog_asks_for_an_optional_reason(admin_client, demo):
    token, _raw = demo.token(demo.alice, label="doomed")
    html = admin_client.get(f"/people/alice/tokens/{token.uuid}/delete/", HTTP_HX_REQUEST="true").content.decode()
    assert '<label for="delete-reason">Reason <span class="muted">(optional)</span></label>' in html
    assert 'name="reason" maxlength="500"' in html


def test_the_reason_is_recorded_with_the_deletion(admin_client, demo):
    token, raw = demo.token(demo.alice, label="doomed")
    response = admin_client.post(
        f"/people/alice/tokens/{token.uuid}/delete/", {"reason": "  laptop lost  "}, HTTP_HX_REQUEST="true"
    )
    assert set(json.loads(response["HX-Trigger"])) == {"tokensChanged", "closeDialog"}
    assert PersonalAccessToken.objects.authenticate(raw) is None
    event = AuditEvent.objects.get(event=AuditEvent.DELETED)
    assert (event.reason, event.actor_label, event.token_id) == ("laptop lost", "admin", token.lookup_id)


def test_an_admin_deleting_in_the_console_emails_the_owner(
    admin_client, demo, mailoutbox, django_capture_on_commit_callbacks
):
    token, raw = demo.token(demo.alice, label="doomed")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            f"/people/alice/tokens/{token.uuid}/delete/", {"reason": "offboarding"}, HTTP_HX_REQUEST="true"
        )
    [message] = mailoutbox
    assert message.to == ["alice@example.com"] and 'admin deleted your personal access token "doomed"' in message.body
    assert raw not in message.body


def test_a_user_deleting_their_own_token_in_the_console_is_not_emailed(
    alice_client, demo, mailoutbox, django_capture_on_commit_callbacks
):
    token, _raw = demo.token(demo.alice, label="doomed")
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(f"/me/tokens/{token.uuid}/delete/", HTTP_HX_REQUEST="true")
    assert not PersonalAccessToken.objects.filter(revoked_at=None).exists() and mailoutbox == []


def test_a_too_long_reason_comes_back_in_the_dialog_and_deletes_nothing(admin_client, demo):
    token, raw = demo.token(demo.alice, label="doomed")
    response = admin_client.post(
        f"/people/alice/tokens/{token.uuid}/delete/", {"reason": "x" * 501}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200 and "at most 500 characters" in html
    assert response["HX-Retarget"] == "#delete-body" and response["HX-Reswap"] == "outerHTML"
    assert "HX-Trigger" not in response
    assert PersonalAccessToken.objects.authenticate(raw) is not None


def test_a_rotation_the_service_refuses_comes_back_in_the_dialog(admin_client, demo):
    from files import services

    beta = demo.node("/common/projects/beta")
    scoped, scoped_raw = demo.token(demo.alice, label="scoped", scopes=[f"node:{beta.uuid}:r"])
    services.delete(beta)
    response = admin_client.post(f"/people/alice/tokens/{scoped.uuid}/rotate/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and 'role="alert"' in html and "that alice can read" in html
    assert PersonalAccessToken.objects.authenticate(scoped_raw) is not None


def test_a_rotation_past_a_lowered_maximum_is_shortened_and_the_reveal_says_so(admin_client, demo, settings):
    long, long_raw = demo.token(demo.alice, label="long", expires_in=timedelta(hours=1))
    settings.TOKEN_MAX_LIFETIME = "30m"
    response = admin_client.post(f"/people/alice/tokens/{long.uuid}/rotate/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    new = PersonalAccessToken.objects.authenticate(raw_token(response))
    assert new is not None and new.expires_at - new.created_at == timedelta(minutes=30)
    assert (
        '<p class="alert alert-warning" role="status">This instance now lets a token live at most 30 minutes, '
        "so the new token was shortened: it lives 30 minutes instead of 1 hour.</p>"
    ) in html
    assert PersonalAccessToken.objects.authenticate(long_raw) is None
