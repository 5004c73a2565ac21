"""Deleting a token that still works revokes it: refused from the next request on, and listed among the inactive
tokens as revoked (deleted, rotated or reported leaked) until the retention removes it, as GitLab keeps revoked
tokens in sight. Deleting a token that no longer works removes its record."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.utils import timezone

from tests.support.api_helpers import API, bearer, call
from tokens import format as token_format
from tokens.audit import AuditEvent
from tokens.models import PersonalAccessToken
from tokens.services import token_delete, token_rotate, tokens_prune

check = PersonalAccessToken.objects.authenticate


def _inactive(client, login="alice"):
    return client.get(f"/people/{login}/tokens/inactive/", HTTP_HX_REQUEST="true").content.decode()


def test_a_token_deleted_in_the_console_moves_to_the_inactive_list_as_deleted(admin_client, demo):
    token, raw = demo.token(demo.alice, label="laptop")
    admin_client.post(f"/people/alice/tokens/{token.uuid}/delete/", {"reason": "lost"}, HTTP_HX_REQUEST="true")
    assert check(raw, ip="192.0.2.1") is None
    assert AuditEvent.objects.get(event=AuditEvent.REFUSED).reason == "revoked"
    live = admin_client.get("/people/alice/tokens/list/", HTTP_HX_REQUEST="true").content.decode()
    assert "laptop" not in live
    inactive = _inactive(admin_client)
    row = inactive[inactive.index(f'id="token-{token.uuid}"') :]
    assert ">Revoked</span>" in row and "Deleted</span>" in row and "Rotate<span" not in row
    assert 'Delete<span class="visually-hidden"> laptop</span>' in row
    details = admin_client.get(f"/people/alice/tokens/{token.uuid}/details/", HTTP_HX_REQUEST="true").content.decode()
    assert "<dt>Revoked</dt>" in details and "(deleted; the audit trail says by whom and why)" in details
    assert "Ends at the latest" not in details


def test_deleting_an_inactive_token_removes_its_record_and_says_so_first(admin_client, demo):
    token, _raw = demo.token(demo.alice, label="laptop")
    live_dialog = admin_client.get(f"/people/alice/tokens/{token.uuid}/delete/", HTTP_HX_REQUEST="true")
    assert "stays listed among the inactive tokens, as deleted, for 90 days" in live_dialog.content.decode()
    admin_client.post(f"/people/alice/tokens/{token.uuid}/delete/", HTTP_HX_REQUEST="true")
    dialog = admin_client.get(f"/people/alice/tokens/{token.uuid}/delete/", HTTP_HX_REQUEST="true").content.decode()
    assert "no longer works" in dialog and "removes it from the list of inactive tokens now" in dialog
    admin_client.post(f"/people/alice/tokens/{token.uuid}/delete/", HTTP_HX_REQUEST="true")
    assert not PersonalAccessToken.objects.filter(pk=token.pk).exists()
    assert AuditEvent.objects.filter(event=AuditEvent.DELETED, token_id=token.lookup_id).count() == 2


def test_a_rotated_token_is_listed_as_rotated(admin_client, demo):
    token, raw = demo.token(demo.alice, label="sync")
    new = token_rotate(token=token, actor=demo.admin, via="console").token
    assert check(raw) is None and new.label == "sync"
    token.refresh_from_db()
    assert (token.status, token.revoked_how) == ("Revoked", PersonalAccessToken.ROTATED)
    inactive = _inactive(admin_client)
    assert f'id="token-{token.uuid}"' in inactive and "Rotated</span>" in inactive
    assert f'id="token-{new.uuid}"' not in inactive


def test_a_revoked_token_frees_its_label_and_its_place_under_the_cap(demo, settings):
    settings.TOKEN_MAX_PER_USER = 1
    token, _raw = demo.token(demo.alice, label="ci")
    token_delete(token=token, actor=demo.alice, via="console")
    again, _raw = demo.token(demo.alice, label="ci")
    assert again.status == "Active"


def test_the_retention_counts_from_the_revocation(demo, settings):
    token, _raw = demo.token(demo.alice, expires_in=timedelta(days=300))
    token_delete(token=token, actor=demo.alice, via="console")
    later = timezone.now() + timedelta(days=89)
    assert tokens_prune(older_than=timedelta(days=90), now=later) == 0
    assert tokens_prune(older_than=timedelta(days=90), now=later + timedelta(days=2)) == 1
    assert not PersonalAccessToken.objects.filter(pk=token.pk).exists()


def test_a_use_racing_the_revocation_cannot_bring_the_token_back(demo):
    token, raw = demo.token(demo.alice, expires_in=None, refresh_window=timedelta(hours=1))
    in_flight = check(raw)  # a request that authenticated a moment before the revocation
    token_delete(token=token, actor=demo.alice, via="console")
    with time_machine.travel(timezone.now() + timedelta(minutes=30)):
        parts = token_format.parse(raw)
        assert parts is not None
        in_flight._record_use(parts, now=timezone.now(), ip=None, protocol="REST", user_agent="")
    token.refresh_from_db()
    assert token.status == "Revoked" and token.expires_at == token.revoked_at
    assert check(raw) is None


def test_the_api_shows_a_deleted_token_as_revoked_until_it_is_deleted_again(demo, client):
    _manager, manager_raw = demo.token(demo.alice, label="manager", scopes=["tokens:self"])
    token, _raw = demo.token(demo.alice, label="child")
    headers = bearer(manager_raw)
    assert call(client, "DELETE", f"/tokens/{token.lookup_id}", headers=headers).status_code == 204
    shown = call(client, "GET", f"/tokens/{token.lookup_id}", headers=headers).json()
    assert shown["status"] == "Revoked" and shown["revoked_at"] is not None
    listed = call(client, "GET", "/tokens?status=revoked", headers=headers).json()
    assert [item["public_id"] for item in listed] == [token.lookup_id]
    rotate = call(client, "POST", f"/tokens/{token.lookup_id}/rotate", headers=headers)
    assert rotate.status_code == 409 and "deleted" in rotate.json()["detail"]
    assert call(client, "DELETE", f"/tokens/{token.lookup_id}", headers=headers).status_code == 204
    assert call(client, "GET", f"/tokens/{token.lookup_id}", headers=headers).status_code == 404
    assert client.get(f"{API}/me", **headers).status_code == 200
