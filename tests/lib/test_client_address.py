"""Behind a load balancer, the client's address comes from X-Forwarded-For, and only from a trusted proxy."""

from __future__ import annotations

import subprocess
import sys

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from lib.client_address import client_address, resolve
from tests.support.dav_support import DavClient

PROXY = "10.0.0.5"


def _address(peer: str | None, forwarded: str | None = None) -> str | None:
    meta = {} if peer is None else {"REMOTE_ADDR": peer}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(meta)


@pytest.mark.parametrize(
    ("proxies", "peer", "forwarded", "expected"),
    [
        # No trusted proxy: the peer, whatever the header says.
        ([], "198.51.100.7", "203.0.113.1", "198.51.100.7"),
        ([], None, "203.0.113.1", None),
        # The peer is a trusted proxy: the hop it appended.
        ([PROXY], PROXY, "203.0.113.1", "203.0.113.1"),
        ([PROXY], PROXY, " 203.0.113.1 ", "203.0.113.1"),
        # What a client wrote itself stays to the left of what the proxy appended.
        ([PROXY], PROXY, "192.0.2.66, 203.0.113.1", "203.0.113.1"),
        ([PROXY], PROXY, "unknown, 203.0.113.1", "203.0.113.1"),
        # A chain of trusted proxies (a CDN in front of the load balancer): the first untrusted hop from the right.
        (["10.0.0.0/8"], PROXY, "192.0.2.66, 203.0.113.1, 10.1.2.3", "203.0.113.1"),
        (["10.0.0.0/8", "172.16.0.0/12"], PROXY, "203.0.113.1, 172.16.0.9, 10.1.2.3", "203.0.113.1"),
        # A peer that is not a trusted proxy cannot choose its address.
        ([PROXY], "198.51.100.7", "203.0.113.1", "198.51.100.7"),
        (["10.0.0.0/8"], "10.0.0.5.evil", "203.0.113.1", "10.0.0.5.evil"),
        # No header, an empty one, or no address in it: the proxy itself.
        ([PROXY], PROXY, None, PROXY),
        ([PROXY], PROXY, "", PROXY),
        ([PROXY], PROXY, "unknown", PROXY),
        ([PROXY], PROXY, "not an address, , ;DROP TABLE", PROXY),
        # Ports and IPv6, as proxies write them.
        ([PROXY], PROXY, "203.0.113.1:51234", "203.0.113.1"),
        ([PROXY], PROXY, "[2001:db8::7]:443", "2001:db8::7"),
        ([PROXY], PROXY, "2001:db8::7", "2001:db8::7"),
        (["::1"], "::1", "203.0.113.1", "203.0.113.1"),
        (["10.0.0.0/8"], "::ffff:10.0.0.5", "203.0.113.1", "203.0.113.1"),
        # Everything in the header is a trusted proxy: the left-most of them.
        (["10.0.0.0/8"], PROXY, "10.9.9.9, 10.1.1.1", "10.9.9.9"),
    ],
)
def test_the_client_address(settings, proxies, peer, forwarded, expected):
    settings.TRUSTED_PROXIES = proxies
    assert _address(peer, forwarded) == expected


def test_a_trusted_proxy_that_is_no_address_stops_the_start_up(tmp_path):
    command = [sys.executable, "manage.py", "check"]
    env = {"TRUSTED_PROXIES": "10.0.0.0/8,lb.internal", "DATA_DIR": str(tmp_path), "PATH": ""}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert done.returncode != 0
    assert "TRUSTED_PROXIES: 'lb.internal' is not an IP address or network." in done.stderr


@pytest.fixture
def behind_a_proxy(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "127.0.0.1"]
    settings.AUTH_FAILURE_LIMIT = 3
    settings.AUTH_FAILURE_WINDOW = 60
    start = (int(timezone.now().timestamp()) // 60 + 1) * 60
    with time_machine.travel(start, tick=False):
        yield


class WsgiClient(Client):
    """Django's test client with what the WSGI application does first (``lib.client_address.ClientAddress``)."""

    def _base_environ(self, **request):
        environ = super()._base_environ(**request)  # type: ignore[misc]
        resolve(environ)
        return environ


def _me(token: str, client_ip: str, *, peer: str = PROXY):
    return WsgiClient(REMOTE_ADDR=peer).get(
        "/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_FORWARDED_FOR=client_ip
    )


def test_the_api_throttles_the_attacker_behind_the_proxy_not_everyone(demo, behind_a_proxy):
    token, raw = demo.token(demo.alice)
    for _ in range(3):
        assert _me("cpat_wrong", "203.0.113.9").status_code == 401
    assert _me(raw, "203.0.113.9").status_code == 429
    # Everyone else comes through the same proxy, and is not locked out.
    assert _me(raw, "198.51.100.1").status_code == 200
    token.refresh_from_db()
    assert token.last_used_ip == "198.51.100.1"
    # Nor can the attacker talk its way out by writing another address into the header.
    assert _me(raw, "198.51.100.1, 203.0.113.9").status_code == 429


def test_a_client_reaching_the_application_directly_cannot_choose_its_address(demo, behind_a_proxy):
    _token, raw = demo.token(demo.alice)
    for index in range(3):
        assert _me("cpat_wrong", f"192.0.2.{index}", peer="203.0.113.9").status_code == 401
    assert _me(raw, "192.0.2.200", peer="203.0.113.9").status_code == 429


def test_webdav_throttles_the_attacker_behind_the_proxy_not_everyone(demo, behind_a_proxy):
    token, raw = demo.token(demo.alice)
    for _ in range(3):
        wrong = DavClient("alice", "wrong").propfind("/dav/", depth="0", x_forwarded_for="203.0.113.9")
        assert wrong.status == 401
    refused = DavClient("alice", raw).propfind("/dav/", depth="0", x_forwarded_for="203.0.113.9")
    assert refused.status == 401
    assert "retry-after" in refused.headers
    assert DavClient("alice", raw).propfind("/dav/", depth="0", x_forwarded_for="198.51.100.1").status == 207
    token.refresh_from_db()
    assert (token.last_used_ip, token.last_used_protocol) == ("198.51.100.1", "WebDAV")


def test_console_login_failures_count_against_the_client_behind_the_proxy(demo, behind_a_proxy):
    def login(login: str, password: str, client_ip: str) -> int:
        client = WsgiClient(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=client_ip)
        return client.post("/login/", {"username": login, "password": password}).status_code

    for name in ("admin", "bob", "nobody"):
        assert login(name, "wrong", "203.0.113.9") == 200
    assert login("alice", "demo-password-for-tests", "203.0.113.9") == 429
    assert login("alice", "demo-password-for-tests", "198.51.100.1") == 302


def test_the_wsgi_application_decides_the_client_address_once_for_every_part(demo, behind_a_proxy):
    token, raw = demo.token(demo.alice)
    answer = DavClient().request("GET", "/api/v1/me", authorization=f"Bearer {raw}", x_forwarded_for="203.0.113.7")
    assert answer.status == 200
    token.refresh_from_db()
    assert token.last_used_ip == "203.0.113.7"
