"""Tokens over the REST API: the calling token (/tokens/self), the tokens a session or a token with a tokens:
scope manages (/tokens, /tokens/{id}), with the policy, audit trail and e-mails of the console, and no token
ever making or rotating a stronger one."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.support.api_helpers import API, bearer, call
from tests.support.paging_support import add_tokens
from tokens.audit import AuditEvent
from tokens.models import STATUSES, PersonalAccessToken


def _works(client, raw):
    return client.get(f"{API}/me", **bearer(raw)).status_code == 200


@pytest.fixture
def manager(demo):
    """A token of alice's that manages her tokens: (token, raw)."""
    return demo.token(demo.alice, scopes=["tokens:self"], label="manager", expires_in=timedelta(days=10))


_numbers = itertools.count()


def _create(client, headers, **body):
    # A label of its own for each: two live tokens of one owner never share one.
    fields = {"label": f"child {next(_numbers)}", "model": "hard_limit", "duration": "1h"}
    fields.update(body)
    return call(client, "POST", "/tokens", fields, headers)


# /tokens/self


def test_self_describes_the_calling_token_without_its_secret(demo, client):
    token, raw = demo.token(demo.alice, label="ci", scopes=["protocol:rest"], refresh_window=timedelta(hours=2))
    body = client.get(f"{API}/tokens/self", **bearer(raw)).json()
    assert body["uuid"] == str(token.uuid) and body["public_id"] == token.lookup_id
    assert body["label"] == "ci" and body["owner"] == "alice"
    assert body["model"] == "auto_refresh" and body["window"] == "2h"
    assert body["scopes"] == ["protocol:rest"]
    assert "token" not in body and raw not in str(body)


def test_self_with_the_session_is_404(alice_client):
    assert alice_client.get(f"{API}/tokens/self").status_code == 404


def test_a_self_rotation_keeps_end_window_and_scopes_and_the_old_secret_stops(demo, client):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        old, raw = demo.token(
            demo.alice, scopes=["node:*:r"], refresh_window=timedelta(hours=1), expires_in=timedelta(days=3)
        )
        traveller.shift(timedelta(minutes=30))
        response = call(client, "POST", "/tokens/self/rotate", headers=bearer(raw))
    assert response.status_code == 201
    body = response.json()
    new = PersonalAccessToken.objects.get(uuid=body["uuid"])
    assert new.absolute_end == old.absolute_end and new.refresh_window == old.refresh_window
    assert new.scopes == ["node:*:r"] and new.label == old.label
    assert not _works(client, raw) and _works(client, body["token"])
    event = AuditEvent.objects.get(event=AuditEvent.ROTATED)
    assert event.via == "rest" and f"through token {old.lookup_id}" in event.reason


def test_deleting_self_stops_it(demo, client):
    token, raw = demo.token(demo.alice)
    assert call(client, "DELETE", "/tokens/self", headers=bearer(raw)).status_code == 204
    assert not _works(client, raw)
    assert AuditEvent.objects.get(event=AuditEvent.DELETED, token_id=token.lookup_id).via == "rest"


def test_without_a_tokens_scope_a_token_manages_only_itself(demo, client):
    token, raw = demo.token(demo.alice)
    other, _ = demo.token(demo.alice, label="other")
    headers = bearer(raw)
    assert call(client, "GET", "/tokens", headers=headers).status_code == 403
    assert _create(client, headers).status_code == 403
    assert call(client, "GET", f"/tokens/{other.uuid}", headers=headers).status_code == 404
    assert call(client, "DELETE", f"/tokens/{other.lookup_id}", headers=headers).status_code == 404
    assert call(client, "POST", f"/tokens/{other.uuid}/rotate", headers=headers).status_code == 404
    assert call(client, "GET", f"/tokens/{token.lookup_id}", headers=headers).json()["uuid"] == str(token.uuid)
    assert PersonalAccessToken.objects.filter(pk=other.pk).exists()


# Listing


def test_tokens_self_lists_its_owners_tokens_newest_first(demo, client, manager):
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        demo.token(demo.alice, label="newer")
    demo.token(demo.bob, label="bob's")
    body = client.get(f"{API}/tokens", **bearer(manager[1])).json()
    assert [item["label"] for item in body] == ["newer", "manager"]
    assert all("token" not in item for item in body)


def test_tokens_self_cannot_list_another_owners_tokens(demo, client, manager):
    assert client.get(f"{API}/tokens?owner=bob", **bearer(manager[1])).status_code == 404
    assert client.get(f"{API}/tokens?owner=nobody", **bearer(manager[1])).status_code == 404
    assert len(client.get(f"{API}/tokens?owner=ALICE", **bearer(manager[1])).json()) == 1


def test_the_status_filter(demo, client, manager):
    with time_machine.travel(timezone.now() - timedelta(days=2)):
        demo.token(demo.alice, label="gone", expires_in=timedelta(days=1))
    body = client.get(f"{API}/tokens?status=expired", **bearer(manager[1])).json()
    assert [item["label"] for item in body] == ["gone"]
    assert client.get(f"{API}/tokens?status=nonsense", **bearer(manager[1])).status_code == 422


def test_the_documented_statuses_are_the_statuses_of_the_command_line_and_console(client):
    document = client.get(f"{API}/openapi.json").json()
    [status] = [item for item in document["paths"]["/api/v1/tokens"]["get"]["parameters"] if item["name"] == "status"]
    assert set(status["schema"]["anyOf"][0]["enum"]) == set(STATUSES)


def test_lists_page_with_a_link_header(demo, client, manager):
    add_tokens(demo.alice, 5)
    seen, url = [], f"{API}/tokens?limit=2"
    while url:
        response = client.get(url, **bearer(manager[1]))
        seen += [item["label"] for item in response.json()]
        link = response.get("Link")
        url = link[1 : link.index(">")] if link else ""
    assert seen == ["manager", "bulk 0004", "bulk 0003", "bulk 0002", "bulk 0001", "bulk 0000"]


def test_a_page_costs_the_same_for_5_and_500_tokens(demo, client, manager):
    def queries(count: int) -> int:
        PersonalAccessToken.objects.exclude(pk=manager[0].pk).delete()
        add_tokens(demo.alice, count)
        client.get(f"{API}/tokens?limit=5", **bearer(manager[1]))  # the first use writes last-used details
        with CaptureQueriesContext(connection) as context:
            assert len(client.get(f"{API}/tokens?limit=5", **bearer(manager[1])).json()) == 5
        assert any("LIMIT 6" in query["sql"] for query in context.captured_queries)
        return len(context.captured_queries)

    assert queries(5) == queries(500)


def test_a_session_lists_its_users_tokens_an_administrator_everyones(demo, alice_client, admin_client):
    demo.token(demo.alice, label="alice's")
    demo.token(demo.bob, label="bob's")
    assert [item["label"] for item in alice_client.get(f"{API}/tokens").json()] == ["alice's"]
    assert alice_client.get(f"{API}/tokens?owner=bob").status_code == 404
    assert {item["label"] for item in admin_client.get(f"{API}/tokens").json()} == {"alice's", "bob's"}
    assert [item["label"] for item in admin_client.get(f"{API}/tokens?owner=bob").json()] == ["bob's"]


def test_an_administrators_tokens_all_lists_everyone(demo, client):
    demo.token(demo.bob, label="bob's")
    _token, raw = demo.token(demo.admin, scopes=["tokens:all"], label="ops", created_via="cli")
    assert {item["label"] for item in client.get(f"{API}/tokens", **bearer(raw)).json()} == {"bob's", "ops"}


def test_tokens_all_of_a_demoted_administrator_manages_only_their_own(demo, client):
    demo.token(demo.bob, label="bob's")
    _token, raw = demo.token(demo.admin, scopes=["tokens:all"], label="ops", created_via="cli")
    type(demo.admin).objects.filter(pk=demo.admin.pk).update(is_admin=False)
    assert [item["label"] for item in client.get(f"{API}/tokens", **bearer(raw)).json()] == ["ops"]
    assert client.get(f"{API}/tokens?owner=bob", **bearer(raw)).status_code == 404


# Creating


def test_a_session_creates_a_token_as_the_console_does(demo, alice_client, mailoutbox):
    response = _create(alice_client, {}, label="from a script", scopes=["node:*:r", "protocol:webdav"])
    assert response.status_code == 201
    body = response.json()
    token = PersonalAccessToken.objects.get(uuid=body["uuid"])
    assert body["token"].startswith("cpat_") and body["public_id"] == token.lookup_id
    assert token.created_via == "rest" and token.created_by == demo.alice
    assert token.scopes == ["node:*:r", "protocol:webdav"]
    event = AuditEvent.objects.get(event=AuditEvent.CREATED)
    assert (event.via, event.actor_label, event.reason) == ("rest", "alice", "")
    assert mailoutbox == []  # her own token


def test_an_administrator_creates_for_someone_else_who_is_emailed(demo, admin_client, mailoutbox):
    response = _create(admin_client, {}, owner="alice", label="made for alice")
    assert response.status_code == 201
    assert PersonalAccessToken.objects.get(label="made for alice").owner == demo.alice
    [message] = mailoutbox
    assert message.to == ["alice@example.com"] and "made for alice" in message.body
    assert response.json()["token"] not in message.body


def test_an_auto_refresh_token_with_an_absolute_end(demo, alice_client):
    end = (timezone.now() + timedelta(days=10)).replace(microsecond=0)
    response = _create(alice_client, {}, model="auto_refresh", duration="1h", absolute_end=end.isoformat())
    token = PersonalAccessToken.objects.get(uuid=response.json()["uuid"])
    assert token.refresh_window == timedelta(hours=1) and token.absolute_end == end


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"duration": "500d"}, "duration", "at most 365 days"),
        ({"duration": "0d"}, "duration", "longer than zero"),
        ({"label": "   "}, "label", "needs a label"),
        ({"label": "two\nlines"}, "label", "single line"),
        ({"scopes": ["node:nope:r"]}, "scopes", "node:nope:r"),
        ({"scopes": ["ip:192.0.2.1/24"]}, "scopes", "did you mean 192.0.2.0/24"),
        ({"scopes": ["tokens:all"]}, "scopes", "alice is no administrator"),
        ({"absolute_end": "2099-01-01T00:00:00Z"}, "absolute_end", "auto_refresh"),
        ({"model": "auto_refresh", "absolute_end": "2001-01-01T00:00:00Z"}, "absolute_end", "in the future"),
        ({"model": "auto_refresh", "absolute_end": "9999-12-31T23:59:59Z"}, "absolute_end", "at most 365 days"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(demo, alice_client, body, field, words):
    response = _create(alice_client, {}, **body)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "payload", field] and words in error["msg"]
    assert not PersonalAccessToken.objects.exists()


def test_a_scope_on_a_node_the_owner_cannot_read_is_refused(demo, bob_client):
    paper = demo.node("/research/paper.txt")
    response = _create(bob_client, {}, scopes=[f"node:{paper.uuid}:r"])
    assert response.status_code == 422 and "that bob can read" in response.json()["detail"][0]["msg"]


def test_the_policy_refusal_is_audited(demo, alice_client, settings):
    settings.TOKEN_MAX_PER_USER = 1
    demo.token(demo.alice)
    response = _create(alice_client, {})
    assert response.status_code == 422 and "the most this instance allows" in response.json()["detail"][0]["msg"]
    event = AuditEvent.objects.get(event=AuditEvent.POLICY_REFUSED)
    assert event.via == "rest" and event.owner_login == "alice"


def test_a_login_that_names_nobody_is_404(demo, admin_client):
    assert _create(admin_client, {}, owner="nobody").status_code == 404


def test_tokens_self_creates_a_narrower_token_and_the_audit_names_the_parent(demo, client, manager):
    alpha = demo.node("/common/projects/alpha")
    response = _create(client, bearer(manager[1]), scopes=[f"node:{alpha.uuid}:r", "protocol:webdav"])
    assert response.status_code == 201
    child = PersonalAccessToken.objects.get(uuid=response.json()["uuid"])
    assert child.created_by == demo.alice and child.created_via == "rest"
    assert AuditEvent.objects.get(event=AuditEvent.CREATED, token_uuid=child.uuid).reason == (
        f"through token {manager[0].lookup_id}"
    )


def test_an_auto_refresh_child_without_an_end_is_capped_at_its_parents(demo, client, manager):
    response = _create(client, bearer(manager[1]), model="auto_refresh", duration="1h")
    child = PersonalAccessToken.objects.get(uuid=response.json()["uuid"])
    assert child.absolute_end == manager[0].expires_at


def test_deleting_the_parent_leaves_its_children(demo, client, manager):
    child = _create(client, bearer(manager[1])).json()
    assert call(client, "DELETE", "/tokens/self", headers=bearer(manager[1])).status_code == 204
    assert _works(client, child["token"])


@pytest.mark.parametrize(
    ("parent_scopes", "asked", "words"),
    [
        (["tokens:self", "node:*:r"], {"scopes": []}, "every file"),
        (["tokens:self", "node:*:r"], {"scopes": ["node:*:rw"]}, "write where the parent may not"),
        (["tokens:self", "protocol:rest"], {"scopes": []}, "every protocol"),
        (["tokens:self", "protocol:rest"], {"scopes": ["protocol:rest", "protocol:webdav"]}, "protocol:webdav"),
        (["tokens:self", "ip:192.0.2.0/24"], {"scopes": []}, "any address"),
        (["tokens:self", "ip:192.0.2.0/24"], {"scopes": ["ip:192.0.0.0/16"]}, "ip:192.0.0.0/16"),
        (["tokens:self"], {"duration": "30d"}, "past the parent's end"),
    ],
)
def test_a_token_never_makes_a_stronger_one(demo, client, parent_scopes, asked, words):
    _parent, raw = demo.token(demo.alice, scopes=parent_scopes, label="parent", expires_in=timedelta(days=10))
    response = _create(client, {**bearer(raw), "REMOTE_ADDR": "192.0.2.10"}, **asked)
    assert response.status_code == 403 and words in response.json()["detail"]
    assert PersonalAccessToken.objects.count() == 1


def test_a_node_scope_beyond_a_scoped_parent_is_refused(demo, client):
    alpha, beta = demo.node("/common/projects/alpha"), demo.node("/common/projects/beta")
    _parent, raw = demo.token(demo.alice, scopes=["tokens:self", f"node:{alpha.uuid}:rw"])
    data = demo.node("/common/projects/alpha/data.csv")
    assert _create(client, bearer(raw), scopes=[f"node:{data.uuid}:r"]).status_code == 201
    response = _create(client, bearer(raw), scopes=[f"node:{beta.uuid}:r"])
    assert response.status_code == 403 and f"node:{beta.uuid}:r" in response.json()["detail"]


def test_a_longer_window_than_the_parents_is_refused(demo, client):
    _parent, raw = demo.token(demo.alice, scopes=["tokens:self"], refresh_window=timedelta(hours=1), expires_in=None)
    response = _create(client, bearer(raw), model="auto_refresh", duration="2h")
    assert response.status_code == 403 and "refresh window" in response.json()["detail"]


def test_tokens_self_cannot_make_tokens_all_even_for_an_administrator(demo, client):
    _parent, raw = demo.token(demo.admin, scopes=["tokens:self"], created_via="cli")
    response = _create(client, bearer(raw), scopes=["tokens:all"])
    assert response.status_code == 403 and "tokens:all" in response.json()["detail"]


def test_an_administrators_tokens_all_creates_for_another_owner_within_its_node_scopes(demo, client, mailoutbox):
    alpha, paper = demo.node("/common/projects/alpha"), demo.node("/research/paper.txt")
    _parent, raw = demo.token(demo.admin, scopes=["tokens:all", f"node:{alpha.uuid}:rw"], created_via="cli")
    response = _create(client, bearer(raw), owner="alice", scopes=[f"node:{alpha.uuid}:r"])
    assert response.status_code == 201
    assert PersonalAccessToken.objects.get(uuid=response.json()["uuid"]).owner == demo.alice
    assert [message.to for message in mailoutbox] == [["alice@example.com"]]
    assert _create(client, bearer(raw), owner="alice", scopes=[f"node:{paper.uuid}:r"]).status_code == 403
    assert _create(client, bearer(raw), owner="alice").status_code == 403


# One token, by id


def test_a_token_is_found_by_uuid_or_public_id(demo, client, manager):
    other, _ = demo.token(demo.alice, label="other")
    for key in (other.uuid, other.lookup_id, str(other.uuid).replace("-", "")):
        assert client.get(f"{API}/tokens/{key}", **bearer(manager[1])).json()["label"] == "other"
    assert client.get(f"{API}/tokens/{'x' * 12}", **bearer(manager[1])).status_code == 404
    assert client.get(f"{API}/tokens/nope", **bearer(manager[1])).status_code == 422


def test_another_owners_token_does_not_exist_for_tokens_self(demo, client, manager):
    bobs, _ = demo.token(demo.bob)
    for method in ("GET", "DELETE"):
        assert call(client, method, f"/tokens/{bobs.uuid}", headers=bearer(manager[1])).status_code == 404
    assert call(client, "POST", f"/tokens/{bobs.uuid}/rotate", headers=bearer(manager[1])).status_code == 404
    assert PersonalAccessToken.objects.filter(pk=bobs.pk).exists()


def test_tokens_self_deletes_a_sibling(demo, client, manager, mailoutbox, django_capture_on_commit_callbacks):
    other, raw = demo.token(demo.alice, label="other")
    with django_capture_on_commit_callbacks(execute=True):
        assert call(client, "DELETE", f"/tokens/{other.uuid}", headers=bearer(manager[1])).status_code == 204
    assert not _works(client, raw)
    assert AuditEvent.objects.get(event=AuditEvent.DELETED).reason == f"through token {manager[0].lookup_id}"
    assert mailoutbox == []  # her own token, deleted by her


def test_an_administrator_deleting_someones_token_tells_them(
    demo, admin_client, mailoutbox, django_capture_on_commit_callbacks
):
    token, _ = demo.token(demo.alice, label="laptop")
    with django_capture_on_commit_callbacks(execute=True):
        assert call(admin_client, "DELETE", f"/tokens/{token.lookup_id}").status_code == 204
    [message] = mailoutbox
    assert message.to == ["alice@example.com"] and "laptop" in message.subject


def test_tokens_self_rotates_a_narrower_sibling_keeping_its_end(demo, client, manager):
    sibling, raw = demo.token(demo.alice, label="sibling", scopes=["node:*:r"], expires_in=timedelta(days=2))
    response = call(client, "POST", f"/tokens/{sibling.lookup_id}/rotate", headers=bearer(manager[1]))
    assert response.status_code == 201
    new = PersonalAccessToken.objects.get(uuid=response.json()["uuid"])
    assert new.expires_at == sibling.expires_at and new.scopes == ["node:*:r"]
    assert not _works(client, raw) and _works(client, response.json()["token"])


def test_a_token_cannot_rotate_a_stronger_sibling(demo, client):
    _parent, raw = demo.token(demo.alice, scopes=["tokens:self", "node:*:r"], label="reader")
    stronger, stronger_raw = demo.token(demo.alice, label="writer")
    response = call(client, "POST", f"/tokens/{stronger.uuid}/rotate", headers=bearer(raw))
    assert response.status_code == 403 and "every file" in response.json()["detail"]
    assert _works(client, stronger_raw)


def test_a_session_rotation_gives_the_same_duration_again(demo, alice_client):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        token, _ = demo.token(demo.alice, expires_in=timedelta(days=3))
        traveller.shift(timedelta(days=1))
        response = call(alice_client, "POST", f"/tokens/{token.uuid}/rotate")
        assert PersonalAccessToken.objects.get(uuid=response.json()["uuid"]).expires_at == timezone.now() + timedelta(
            days=3
        )


def test_an_expired_token_cannot_be_rotated(demo, alice_client):
    with time_machine.travel(timezone.now() - timedelta(days=2)):
        token, _ = demo.token(demo.alice, expires_in=timedelta(days=1))
    assert call(alice_client, "POST", f"/tokens/{token.uuid}/rotate").status_code == 409
