"""The Personal Access Tokens tab: list, create dialog, scope picker and delete, for admins (under People) and
for everyone (under /me/)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from files import services
from tests.support.mail_support import UNREACHABLE
from tests.support.reveal_support import raw_token
from tokens.models import PersonalAccessToken


def _create(client, path="/people/alice/tokens/new/", htmx=True, **data):
    fields = {"label": "backup", "expiration_model": "hard", "duration": "3", "unit": "d"}
    fields.update(data)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(path, fields, **headers)


# The list


def test_tab_lists_tokens_with_status_model_expiry_scopes_and_origin(admin_client, demo):
    alpha = demo.node("/common/projects/alpha")
    demo.token(demo.alice, label="hard one", expires_in=timedelta(days=30), created_via="cli")
    demo.token(
        demo.alice,
        label="auto one",
        refresh_window=timedelta(hours=1),
        expires_in=None,
        scopes=[f"node:{alpha.uuid}:rw"],
        created_by=demo.admin,
        created_via="console",
    )
    html = admin_client.get("/people/alice/tokens/").content.decode()
    assert "<!DOCTYPE html>" in html
    assert 'aria-current="page">Personal Access Tokens</a>' in html
    assert "hard one" in html and "auto one" in html
    assert "Hard Limit" in html and "Auto Refresh (1h)" in html
    assert "in 30 days" in html
    assert "<code>/common/projects/alpha</code>" in html and ">rw</span>" in html
    assert "All files" in html
    assert "command line" in html and "by admin · console" in html
    assert html.count(">Active</span>") == 2


def test_statuses_expiring_soon_and_expired(admin_client, demo):
    demo.token(demo.alice, label="soon", expires_in=timedelta(minutes=70))
    demo.token(demo.alice, label="gone", expires_in=timedelta(minutes=5))
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        html = admin_client.get("/people/alice/tokens/").content.decode()
        # Expired tokens are in the inactive list, loaded on demand.
        html += admin_client.get("/people/alice/tokens/inactive/", HTTP_HX_REQUEST="true").content.decode()
    assert ">Expiring soon</span>" in html and ">Expired</span>" in html
    assert "ago" in html


def test_last_use_shows_when_where_and_protocol(admin_client, demo):
    _token, raw = demo.token(demo.alice, label="used")
    PersonalAccessToken.objects.authenticate(raw, ip="203.0.113.7", protocol="WebDAV")
    html = admin_client.get("/people/alice/tokens/").content.decode()
    assert "203.0.113.7 · WebDAV" in html and "just now" in html


def test_a_scope_on_a_deleted_node_says_so(admin_client, demo):
    beta = demo.node("/common/projects/beta")
    demo.token(demo.alice, label="scoped", scopes=[f"node:{beta.uuid}:r"])
    services.delete(beta)
    html = admin_client.get("/people/alice/tokens/").content.decode()
    assert "(deleted node)" in html


def test_empty_state_explains_tokens_and_the_command(admin_client, demo):
    html = admin_client.get("/people/bob/tokens/").content.decode()
    assert "No Personal Access Tokens yet" in html
    assert "manage.py user_token -u bob -e 20d" in html


def test_tab_by_htmx_returns_the_tab_fragment(admin_client, demo):
    response = admin_client.get("/people/alice/tokens/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "<!DOCTYPE html>" not in html
    assert '<nav class="tabs"' in html and 'id="token-list"' in html


def test_list_fragment_listens_for_tokens_changed(admin_client, demo):
    demo.token(demo.alice, label="listed")
    page = admin_client.get("/people/alice/tokens/").content.decode()
    assert 'hx-get="/people/alice/tokens/list/" hx-trigger="tokensChanged from:body"' in page
    response = admin_client.get("/people/alice/tokens/list/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "listed" in html and "<!DOCTYPE html>" not in html and '<nav class="tabs"' not in html


def test_list_fragment_without_htmx_leads_to_the_tab(admin_client, demo):
    response = admin_client.get("/people/alice/tokens/list/")
    assert response.status_code == 302 and response["Location"] == "/people/alice/tokens/"


def test_list_costs_the_same_queries_however_many_tokens_and_scopes(admin_client, demo, django_assert_num_queries):
    nodes = [demo.node(p) for p in ("/common/projects/alpha", "/common/projects/beta", "/research/paper.txt")]
    for n in range(6):
        demo.token(demo.alice, label=f"t{n}", scopes=[f"node:{nodes[n % 3].uuid}:r"], created_by=demo.admin)
    # session, signed-in user, owner, count, a page of tokens (with creators), every scoped node (with workspaces)
    with django_assert_num_queries(6):
        response = admin_client.get("/people/alice/tokens/list/", HTTP_HX_REQUEST="true")
    assert response.content.decode().count("<tr id=") == 6


def test_my_tokens_lists_only_my_own(alice_client, demo):
    demo.token(demo.alice, label="alice's")
    demo.token(demo.bob, label="bob's")
    html = alice_client.get("/me/tokens/").content.decode()
    assert "alice&#x27;s" in html and "bob&#x27;s" not in html
    # One's own sections (tokens, WebDAV locks), not People's tabs of a user (no profile, no one else's URLs).
    assert '<nav class="tabs" aria-label="Your sections">' in html and ">Profile</a>" not in html
    assert "/people/" not in html.split('<nav class="tabs"', 1)[1].split("</nav>", 1)[0]
    assert 'hx-get="/me/tokens/list/"' in html


# Create


def test_create_dialog_by_htmx_is_a_native_dialog_with_the_spec_fields(admin_client, demo):
    response = admin_client.get("/people/alice/tokens/new/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith("<dialog")
    assert "data-onload-showmodal" in html and "Create a Personal Access Token" in html
    for label in ("Label", "Expiration model", "Duration", "Unit", "Hard Limit", "Auto Refresh"):
        assert f">{label}<" in html
    assert ">Minutes<" in html and ">Hours<" in html and ">Days<" in html
    assert ">Generate</button>" in html
    assert "Common Files" in html and "Research" in html
    assert "no-store" in response["Cache-Control"]


def test_create_page_without_htmx_is_a_full_page(admin_client, demo):
    html = admin_client.get("/people/alice/tokens/new/").content.decode()
    assert "<!DOCTYPE html>" in html and "<dialog" not in html and ">Generate</button>" in html


def test_scope_picker_offers_only_what_the_owner_reaches(admin_client, demo):
    html = admin_client.get("/people/bob/tokens/new/", HTTP_HX_REQUEST="true").content.decode()
    assert "Common Files" in html and "Research" not in html
    # bob only reads common: w and rw are offered but disabled
    root = demo.common.root
    assert f'value="node:{root.uuid}:w"  disabled' in html or f'value="node:{root.uuid}:w" disabled' in html


def test_scope_picker_loads_a_folder_lazily(admin_client, demo):
    projects = demo.node("/common/projects")
    response = admin_client.get("/people/alice/tokens/nodes/", {"parent": projects.uuid}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "alpha" in html and "beta" in html and "welcome.txt" not in html
    assert 'aria-label="Access to /common/projects/alpha"' in html


def test_scope_picker_refuses_folders_the_owner_cannot_reach(admin_client, demo):
    research = demo.research.root
    assert admin_client.get("/people/bob/tokens/nodes/", {"parent": research.uuid}).status_code == 404
    assert admin_client.get("/people/bob/tokens/nodes/", {"parent": "not-a-uuid"}).status_code == 404
    assert admin_client.get("/people/bob/tokens/nodes/").status_code == 404


def test_create_issues_the_token_once_and_fires_tokens_changed(admin_client, demo):
    alpha = demo.node("/common/projects/alpha")
    response = _create(
        admin_client, expiration_model="auto", duration="1", unit="h", scope=["", f"node:{alpha.uuid}:rw"]
    )
    assert response.status_code == 200
    trigger = json.loads(response["HX-Trigger"])
    assert "tokensChanged" in trigger
    assert "no-store" in response["Cache-Control"]
    raw = raw_token(response)
    html = response.content.decode()
    assert ">Token</label>" in html and "data-copy" in html and "will not be shown again" in html
    assert f'curl -H "Authorization: Bearer {raw}" http://testserver/api/v1/me' in html
    assert "http://testserver/dav/" in html and "<strong>alice</strong>" in html
    token = PersonalAccessToken.objects.authenticate(raw)
    assert token is not None and token.owner == demo.alice
    assert token.is_auto_refresh and token.refresh_window == timedelta(hours=1)
    assert token.scopes == [f"node:{alpha.uuid}:rw"]
    assert token.created_by == demo.admin and token.created_via == "console"


def test_a_token_made_for_someone_else_is_revealed_even_when_the_mail_server_is_down(
    admin_client, demo, settings, caplog
):
    settings.EMAIL_BACKEND = UNREACHABLE
    response = _create(admin_client)
    raw = raw_token(response)
    assert response.status_code == 200 and PersonalAccessToken.objects.authenticate(raw).owner == demo.alice
    assert "could not e-mail alice" in caplog.text and raw not in caplog.text


def test_deleting_someone_elses_token_succeeds_even_when_the_mail_server_is_down(
    admin_client, demo, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = UNREACHABLE
    token, _raw = demo.token(demo.alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/people/alice/tokens/{token.uuid}/delete/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and not PersonalAccessToken.objects.filter(revoked_at=None).exists()


def test_create_hard_limit_sets_the_expiry(admin_client, demo):
    raw_token(_create(admin_client, duration="90", unit="m"))
    token = PersonalAccessToken.objects.get()
    assert token.expiration_model == "hard"
    assert timedelta(minutes=89) < token.expires_at - token.created_at <= timedelta(minutes=90)


def test_create_without_htmx_shows_the_token_on_the_tab_it_redirects_to(admin_client, demo):
    response = _create(admin_client, htmx=False)
    assert response.status_code == 303 and response["Location"] == "/people/alice/tokens/"
    assert PersonalAccessToken.objects.authenticate(raw_token(response, admin_client)).owner == demo.alice


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"duration": "0"}, "whole number greater than zero"),
        ({"duration": "-3"}, "whole number greater than zero"),
        ({"duration": "abc"}, "whole number greater than zero"),
        ({"duration": "99999999999999999999"}, "whole number greater than zero"),
        ({"duration": "400", "unit": "d"}, "at most 365 days"),
        ({"label": "  "}, "Give the token a label"),
        ({"unit": "y"}, "Choose minutes, hours, days or weeks"),
        ({"expiration_model": "forever"}, "Choose Hard Limit or Auto Refresh"),
        ({"scope": "node:nonsense:rw"}, "invalid scope"),
        ({"scope": "node:00000000-0000-0000-0000-000000000000:r"}, "that alice can read"),
    ],
)
def test_invalid_input_comes_back_in_the_dialog(admin_client, demo, data, message):
    response = _create(admin_client, **data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<!DOCTYPE html>" not in html and 'class="dialog-body"' in html
    assert 'role="alert"' in html and message in html
    assert "HX-Trigger" not in response
    assert not PersonalAccessToken.objects.exists()


def test_a_scope_beyond_the_owners_rights_is_refused_with_the_reason(admin_client, demo):
    welcome = demo.node("/common/welcome.txt")
    html = _create(admin_client, path="/people/bob/tokens/new/", scope=f"node:{welcome.uuid}:rw").content.decode()
    assert "bob may only read /common/welcome.txt" in html
    research = demo.research.root
    html = _create(admin_client, path="/people/bob/tokens/new/", scope=f"node:{research.uuid}:r").content.decode()
    assert "that bob can read" in html
    assert not PersonalAccessToken.objects.exists()


def test_a_refused_form_keeps_the_chosen_scopes(admin_client, demo):
    alpha = demo.node("/common/projects/alpha")
    html = _create(admin_client, duration="0", scope=f"node:{alpha.uuid}:rw").content.decode()
    assert f'value="node:{alpha.uuid}:rw" selected' in html


def test_users_create_their_own_tokens_under_me(alice_client, demo):
    response = _create(alice_client, path="/me/tokens/new/")
    token = PersonalAccessToken.objects.authenticate(raw_token(response))
    assert token.owner == demo.alice and token.created_by == demo.alice


def test_non_admins_cannot_create_for_others(alice_client, demo):
    assert _create(alice_client, path="/people/bob/tokens/new/").status_code == 403
    assert not PersonalAccessToken.objects.exists()


# Delete


def test_delete_confirmation_dialog(admin_client, demo):
    token, _raw = demo.token(demo.alice, label="doomed")
    response = admin_client.get(f"/people/alice/tokens/{token.uuid}/delete/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith("<dialog") and "Delete “doomed”?" in html and ">Delete token</button>" in html


def test_delete_confirmation_page_without_htmx(admin_client, demo):
    token, _raw = demo.token(demo.alice, label="doomed")
    html = admin_client.get(f"/people/alice/tokens/{token.uuid}/delete/").content.decode()
    assert "<!DOCTYPE html>" in html and ">Delete token</button>" in html and "<dialog" not in html


def test_each_row_has_a_delete_control_named_after_the_label(admin_client, demo):
    token, _raw = demo.token(demo.alice, label="nightly sync")
    html = admin_client.get("/people/alice/tokens/").content.decode()
    assert f'hx-get="/people/alice/tokens/{token.uuid}/delete/"' in html
    assert 'Delete<span class="visually-hidden"> nightly sync</span>' in html


def test_delete_by_htmx_removes_the_token_at_once_and_fires_tokens_changed(admin_client, demo):
    token, raw = demo.token(demo.alice, label="doomed")
    response = admin_client.post(f"/people/alice/tokens/{token.uuid}/delete/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    trigger = json.loads(response["HX-Trigger"])
    assert set(trigger) == {"tokensChanged", "closeDialog"}
    assert PersonalAccessToken.objects.authenticate(raw) is None
    assert PersonalAccessToken.objects.get(uuid=token.uuid).status == "Revoked"


def test_delete_without_htmx_redirects_to_the_tab(admin_client, demo):
    token, _raw = demo.token(demo.alice)
    response = admin_client.post(f"/people/alice/tokens/{token.uuid}/delete/")
    assert response.status_code == 302 and response["Location"] == "/people/alice/tokens/"
    assert not PersonalAccessToken.objects.filter(revoked_at=None).exists()


def test_a_crafted_url_cannot_delete_another_users_token(admin_client, alice_client, demo):
    bobs, raw = demo.token(demo.bob, label="bob's")
    # bob's token under alice's URL: not found, whoever asks
    assert admin_client.post(f"/people/alice/tokens/{bobs.uuid}/delete/").status_code == 404
    assert alice_client.post(f"/me/tokens/{bobs.uuid}/delete/").status_code == 404
    assert PersonalAccessToken.objects.authenticate(raw) is not None


def test_non_admins_cannot_touch_others_tokens_under_people(alice_client, demo):
    bobs, _raw = demo.token(demo.bob)
    assert alice_client.post(f"/people/bob/tokens/{bobs.uuid}/delete/").status_code == 403
    assert alice_client.get(f"/people/bob/tokens/{bobs.uuid}/delete/").status_code == 403
    assert PersonalAccessToken.objects.filter(uuid=bobs.uuid, revoked_at=None).exists()


def test_users_delete_their_own_tokens_under_me(alice_client, demo):
    token, _raw = demo.token(demo.alice)
    assert alice_client.post(f"/me/tokens/{token.uuid}/delete/", HTTP_HX_REQUEST="true").status_code == 200
    assert not PersonalAccessToken.objects.filter(revoked_at=None).exists()


def test_delete_of_an_unknown_token_is_404(admin_client, demo):
    assert admin_client.post("/people/alice/tokens/00000000-0000-0000-0000-000000000000/delete/").status_code == 404
    assert admin_client.post("/people/alice/tokens/nonsense/delete/").status_code == 404


# CSRF and credentials


@pytest.fixture
def csrf_client(demo):
    client = Client(enforce_csrf_checks=True)
    client.force_login(demo.admin)
    return client


def test_create_without_csrf_token_is_refused(csrf_client, demo):
    assert _create(csrf_client).status_code == 403
    assert not PersonalAccessToken.objects.exists()


def test_delete_without_csrf_token_is_refused(csrf_client, demo):
    token, _raw = demo.token(demo.alice)
    assert csrf_client.post(f"/people/alice/tokens/{token.uuid}/delete/", HTTP_HX_REQUEST="true").status_code == 403
    assert PersonalAccessToken.objects.filter(revoked_at=None).exists()


def test_htmx_requests_pass_csrf_with_the_header_from_body(csrf_client, demo):
    page = csrf_client.get("/people/alice/tokens/").content.decode()
    header = re.search(r"hx-headers='(\{[^']+\})'", page)
    assert header is not None
    csrf = json.loads(header[1])["X-CSRFToken"]
    response = csrf_client.post(
        "/people/alice/tokens/new/",
        {"label": "x", "expiration_model": "hard", "duration": "1", "unit": "d"},
        HTTP_HX_REQUEST="true",
        HTTP_X_CSRFTOKEN=csrf,
    )
    assert response.status_code == 200 and "HX-Trigger" in response


@pytest.mark.parametrize("path", ["/me/tokens/", "/me/tokens/new/", "/people/alice/tokens/"])
def test_a_personal_access_token_never_reaches_the_console(client, demo, path):
    _token, raw = demo.token(demo.admin)
    response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    response = client.post(
        "/me/tokens/new/", {"label": "x", "duration": "1", "unit": "d"}, HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert response.status_code in (302, 403)
    assert PersonalAccessToken.objects.count() == 1


def test_console_create_and_delete_are_audited_and_the_owner_emailed(admin_client, demo, mailoutbox):
    from tokens.audit import AuditEvent

    _create(admin_client, label="from the console")
    token = PersonalAccessToken.objects.get(label="from the console")
    admin_client.post(f"/people/alice/tokens/{token.uuid}/delete/", HTTP_HX_REQUEST="true")
    events = list(AuditEvent.objects.order_by("id").values_list("event", "actor_label", "owner_login", "via"))
    assert events == [("created", "admin", "alice", "console"), ("deleted", "admin", "alice", "console")]
    assert [message.to for message in mailoutbox] == [["alice@example.com"]]


def test_own_console_token_is_not_emailed(alice_client, demo, mailoutbox):
    _create(alice_client, path="/me/tokens/new/")
    assert PersonalAccessToken.objects.filter(owner=demo.alice, created_by=demo.alice).exists()
    assert mailoutbox == []
