"""Authentication of the REST API: Bearer PATs, the console session with CSRF, and what a token use records."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.test import Client, RequestFactory
from django.utils import timezone
from ninja.errors import HttpError

from api.auth import require_session
from tests.support.api_helpers import API, bearer
from tokens.auth import Principal
from tokens.models import PersonalAccessToken


def test_me_describes_the_user_and_the_token(demo, client):
    alpha = demo.node("/common/projects/alpha")
    token, raw = demo.token(demo.alice, scopes=[f"node:{alpha.uuid}:r"], label="backup")
    body = client.get(f"{API}/me", **bearer(raw)).json()
    assert body["login"] == "alice"
    assert body["is_admin"] is False
    assert body["token"]["uuid"] == str(token.uuid)
    assert body["token"]["label"] == "backup"
    assert body["token"]["scopes"] == [f"node:{alpha.uuid}:r"]


def test_token_use_records_rest_and_the_address(demo, client):
    token, raw = demo.token(demo.alice)
    client.get(f"{API}/me", **bearer(raw), REMOTE_ADDR="192.0.2.7")
    token.refresh_from_db()
    assert token.last_used_protocol == "REST"
    assert token.last_used_ip == "192.0.2.7"
    assert token.last_used_at is not None


def test_token_expires_at_is_rfc3339_utc(demo, client):
    token, raw = demo.token(demo.alice, expires_in=timedelta(days=3))
    header = client.get(f"{API}/me", **bearer(raw))["Token-Expires-At"]
    assert header == token.expires_at.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_auto_refresh_expiry_slides_in_the_header(demo, client):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        token, raw = demo.token(demo.alice, refresh_window=timedelta(hours=1), expires_in=None)
        first = client.get(f"{API}/me", **bearer(raw))["Token-Expires-At"]
        traveller.shift(timedelta(minutes=30))
        later = client.get(f"{API}/me", **bearer(raw))["Token-Expires-At"]
    assert later > first
    token.refresh_from_db()
    assert later == token.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(
    "header",
    ["Basic YWxpY2U6c2VjcmV0", "Bearer", "Bearer ", "Token abc", "bearer garbage", "Bearer cpat_" + "a" * 50],
)
def test_any_unusable_authorization_header_is_invalid_token(demo, client, header):
    response = client.get(f"{API}/me", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="cellsadmin", error="invalid_token"'


def test_password_is_never_a_bearer_token(demo, client):
    from tests.support.demo import DEMO_PASSWORD

    response = client.get(f"{API}/me", **bearer(DEMO_PASSWORD))
    assert response.status_code == 401


def test_token_of_an_inactive_owner_is_refused(demo, client):
    _token, raw = demo.token(demo.alice)
    demo.alice.is_active = False
    demo.alice.save()
    assert client.get(f"{API}/me", **bearer(raw)).status_code == 401


def test_deleting_a_token_takes_effect_on_the_next_request(demo, client):
    token, raw = demo.token(demo.alice)
    assert client.get(f"{API}/me", **bearer(raw)).status_code == 200
    PersonalAccessToken.objects.filter(pk=token.pk).delete()
    assert client.get(f"{API}/me", **bearer(raw)).status_code == 401


@pytest.fixture
def session_client(demo):
    client = Client(enforce_csrf_checks=True)
    client.force_login(demo.alice)
    return client


def test_session_reads_without_token_header(demo, session_client):
    response = session_client.get(f"{API}/me")
    assert response.status_code == 200
    assert response.json()["token"] is None
    assert "Token-Expires-At" not in response.headers


def test_session_write_without_csrf_is_refused(demo, session_client):
    alpha = demo.node("/common/projects/alpha")
    response = session_client.post(
        f"{API}/nodes/{alpha.uuid}/children", {"name": "x", "type": "folder"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert not alpha.children.filter(name="x").exists()


def test_session_write_with_csrf_works(demo, session_client):
    alpha = demo.node("/common/projects/alpha")
    session_client.get(f"{API}/docs")  # renders the CSRF token, which sets the cookie
    response = session_client.post(
        f"{API}/nodes/{alpha.uuid}/children",
        json.dumps({"name": "x", "type": "folder"}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=session_client.cookies["csrftoken"].value,
    )
    assert response.status_code == 201


def test_bearer_writes_need_no_csrf(demo):
    alpha = demo.node("/common/projects/alpha")
    _token, raw = demo.token(demo.alice)
    response = Client(enforce_csrf_checks=True).post(
        f"{API}/nodes/{alpha.uuid}/children",
        {"name": "x", "type": "folder"},
        content_type="application/json",
        **bearer(raw),
    )
    assert response.status_code == 201


def test_anonymous_write_is_401_not_a_csrf_403(demo):
    alpha = demo.node("/common/projects/alpha")
    response = Client(enforce_csrf_checks=True).post(
        f"{API}/nodes/{alpha.uuid}/children", {"name": "x", "type": "folder"}, content_type="application/json"
    )
    assert response.status_code == 401


def test_a_bad_token_is_refused_even_with_a_valid_session(demo, session_client):
    response = session_client.get(f"{API}/me", HTTP_AUTHORIZATION="Bearer cpat_wrong")
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_a_token_never_reaches_token_management(demo):
    token, _raw = demo.token(demo.alice)
    request = RequestFactory().get("/")
    request.auth = Principal(user=demo.alice, token=token)  # type: ignore[attr-defined]
    with pytest.raises(HttpError) as refused:
        require_session(request)
    assert refused.value.status_code == 403
    request.auth = Principal(user=demo.alice)  # type: ignore[attr-defined]
    assert require_session(request).user == demo.alice


@pytest.mark.parametrize("method", ["GET", "PUT", "POST", "DELETE"])
@pytest.mark.parametrize("path", [f"{API}/no/such/thing", f"{API}/nodes/x/children/a%0Ab", "/api/other"])
def test_unknown_api_urls_are_json_404(method, path):
    # CSRF enforced, as for a browser: an unsafe method once got Django's HTML "CSRF verification failed" page.
    response = Client(enforce_csrf_checks=True).generic(method, path, b"x", content_type="application/octet-stream")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", f"{API}/me", {"GET", "HEAD"}),
        ("POST", f"{API}/workspaces", {"GET", "HEAD"}),
        ("PATCH", f"{API}/nodes", {"GET", "HEAD"}),
        ("POST", f"{API}/nodes/00000000-0000-0000-0000-000000000000/content", {"GET", "HEAD", "PUT"}),
    ],
)
def test_a_method_an_endpoint_does_not_take_is_a_json_405_with_allow(demo, method, path, allowed):
    _token, raw = demo.token(demo.alice)
    for client in (Client(), Client(HTTP_AUTHORIZATION=f"Bearer {raw}")):
        response = client.generic(method, path)
        assert response.status_code == 405
        assert {name.strip() for name in response["Allow"].split(",")} == allowed
        assert response["Content-Type"] == "application/json"
        assert response.json()["detail"].startswith(f"Method {method} not allowed")


def test_the_console_keeps_its_own_405(admin_client, demo):
    response = admin_client.get("/logout/")
    assert response.status_code == 405
    assert response["Content-Type"].startswith("text/html")
