"""NUL bytes can arrive in any path, query or header; PostgreSQL text refuses them, so they must stop early."""

from __future__ import annotations

import base64

from django.test import Client

from tests.support.dav_support import DavClient
from tokens.auth import WEBDAV, authenticate


def test_api_path_lookup_with_nul_is_404(demo):
    _token, raw = demo.token(demo.alice)
    response = Client().get("/api/v1/nodes", {"path": "/common/\x00"}, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 404


def test_dav_path_with_nul_is_404(demo):
    _token, raw = demo.token(demo.alice)
    assert DavClient("alice", raw).request("GET", "/dav/common/\x00").status == 404


def test_basic_auth_login_with_nul_is_401(demo):
    header = "Basic " + base64.b64encode(b"al\x00ice:demo-password-for-tests").decode()
    assert DavClient().request("PROPFIND", "/dav/", authorization=header, depth="0").status == 401
    assert authenticate("pass\x00word", login="alice", protocol=WEBDAV, allow_password=True) is None


def test_people_search_with_nul(demo):
    client = Client()
    client.force_login(demo.admin)
    assert client.get("/people/", {"q": "al\x00"}).status_code == 200
