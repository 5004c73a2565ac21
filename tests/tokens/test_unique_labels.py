"""Two live tokens of one owner never share a label, on every path that makes one."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from tokens.models import PersonalAccessToken, TokenError
from tokens.services import token_create, token_rotate


def _create(owner, label, **kwargs):
    kwargs.setdefault("expires_in", timedelta(days=3))
    return token_create(owner=owner, label=label, via="console", **kwargs)


@pytest.mark.parametrize("again", ["backup", "Backup", "  BACKUP  "])
def test_a_live_label_is_refused_for_the_same_owner_whatever_its_case(demo, again):
    _create(demo.alice, "backup")
    with pytest.raises(TokenError, match=r"alice already has a live token labelled .*: choose another label"):
        _create(demo.alice, again)
    assert PersonalAccessToken.objects.count() == 1


def test_another_owner_may_use_the_same_label(demo):
    _create(demo.alice, "backup")
    _create(demo.bob, "backup")
    assert PersonalAccessToken.objects.filter(label="backup").count() == 2


def test_the_label_of_an_expired_token_is_free_again(demo):
    _create(demo.alice, "backup", expires_in=timedelta(minutes=5))
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        _create(demo.alice, "backup")
    assert PersonalAccessToken.objects.filter(label="backup").count() == 2


def test_a_rotation_keeps_its_label(demo):
    token, _raw = _create(demo.alice, "backup")
    new, _raw, _notice = token_rotate(token=token, actor=demo.alice, via="console")
    assert new.label == "backup" and list(
        PersonalAccessToken.objects.filter(revoked_at=None).values_list("label", flat=True)
    ) == ["backup"]


def test_the_console_refuses_a_duplicate_in_the_dialog(alice_client, demo):
    _create(demo.alice, "backup")
    fields = {"label": "backup", "expiration_model": "hard", "duration": "3", "unit": "d"}
    response = alice_client.post("/me/tokens/new/", fields, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and 'role="alert"' in html and "already has a live token labelled" in html
    assert PersonalAccessToken.objects.count() == 1


def test_the_command_line_refuses_a_duplicate_and_its_default_labels_differ(demo, capsys):
    call_command("user_token", "-u", "alice", "-e", "1d", "-l", "backup", "-q")
    with pytest.raises(SystemExit):
        call_command("user_token", "-u", "alice", "-e", "1d", "-l", "backup", "-q")
    assert "already has a live token labelled “backup”" in capsys.readouterr().err
    call_command("user_token", "-u", "alice", "-e", "1d", "-q")
    call_command("user_token", "-u", "alice", "-e", "1d", "-q")
    labels = list(PersonalAccessToken.objects.filter(owner=demo.alice).values_list("label", flat=True))
    assert len(labels) == 3 and len(set(labels)) == 3


def test_confirmations_name_the_public_id(alice_client, demo):
    token, _raw = _create(demo.alice, "backup")
    for action in ("delete", "rotate"):
        html = alice_client.get(f"/me/tokens/{token.uuid}/{action}/", HTTP_HX_REQUEST="true").content.decode()
        assert f'public id <span class="mono">{token.lookup_id}</span>' in html
