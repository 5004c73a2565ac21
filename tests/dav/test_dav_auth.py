"""WebDAV basic auth: a PAT (or the password) with the owner's login; everything else is 401, never 500."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
import time_machine
from django.core.servers.basehttp import get_internal_wsgi_application
from django.utils import timezone

from dav.app import DavDispatcher
from lib.client_address import ClientAddress
from s3.app import S3Dispatcher
from tests.support.dav_support import DavClient, basic
from tests.support.demo import DEMO_PASSWORD


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    "header",
    [
        "Basic !!!!",
        "Basic abc",
        "Basic",
        "Basic ",
        "Basic " + _b64(b"alice-without-colon"),
        "Basic " + _b64(b"\xff\xfe:\xff"),
        "Basic " + _b64(b":no-login"),
        "Basic Ã¼Ã¼",  # non-ASCII, as a server hands it over (latin-1)
        "Bearer cpat_whatever",
        'Digest username="alice"',
        "",
    ],
)
def test_malformed_or_foreign_authorization_is_401(demo, header):
    response = DavClient().request("PROPFIND", "/dav/", authorization=header, depth="0")
    assert response.status == 401
    assert response.headers["www-authenticate"] == 'Basic realm="cellsadmin"'


def test_a_token_with_its_owners_login_is_accepted_and_recorded_as_webdav(demo):
    token, secret = demo.token(demo.alice)
    assert DavClient("ALICE", secret).propfind("/dav/", depth="0").status == 207
    token.refresh_from_db()
    assert token.last_used_protocol == "WebDAV"
    assert token.last_used_ip == "127.0.0.1"


def test_the_password_is_accepted_too(demo):
    assert DavClient("alice", DEMO_PASSWORD).propfind("/dav/", depth="0").status == 207
    assert DavClient("alice", "wrong password").propfind("/dav/", depth="0").status == 401


def test_a_token_with_another_login_is_refused(demo):
    _token, secret = demo.token(demo.alice)
    assert DavClient("bob", secret).propfind("/dav/", depth="0").status == 401
    assert DavClient("nobody", secret).propfind("/dav/", depth="0").status == 401


def test_an_expired_token_is_refused(demo):
    _token, secret = demo.token(demo.alice, expires_in=timedelta(hours=1))
    with time_machine.travel(timezone.now() + timedelta(hours=1, seconds=1)):
        assert DavClient("alice", secret).propfind("/dav/", depth="0").status == 401


def test_a_deleted_token_is_refused_at_once(demo):
    token, secret = demo.token(demo.alice)
    client = DavClient("alice", secret)
    assert client.propfind("/dav/", depth="0").status == 207
    token.delete()
    assert client.propfind("/dav/", depth="0").status == 401


def test_a_forged_token_is_refused(demo):
    _token, secret = demo.token(demo.alice)
    assert DavClient("alice", secret[:-3] + "AAA").propfind("/dav/", depth="0").status == 401


def test_the_wsgi_application_serves_dav_beside_django(demo):
    application = get_internal_wsgi_application()  # what runserver and gunicorn load
    assert isinstance(application, ClientAddress) and isinstance(application.application, S3Dispatcher)
    assert isinstance(application.application.next_app, DavDispatcher)
    client = DavClient()
    assert client.request("GET", "/login/").status == 200
    assert client.request("OPTIONS", "/dav").status == 401
    assert client.request("OPTIONS", "/dav", authorization=basic("alice", DEMO_PASSWORD)).status == 200


def test_repeated_failures_are_throttled_with_a_delay_hint(demo, settings):
    settings.AUTH_FAILURE_LIMIT = 3
    _token, raw = demo.token(demo.alice)
    start = (int(timezone.now().timestamp()) // 60 + 1) * 60
    with time_machine.travel(start, tick=False):
        for _ in range(3):
            assert DavClient("alice", "wrong").propfind("/dav/", depth="0").status == 401
        refused = DavClient("alice", raw).propfind("/dav/", depth="0")
        assert refused.status == 401
        assert 0 < int(refused.headers["retry-after"]) <= 60
