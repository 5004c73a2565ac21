"""Each scope kind over every protocol there is (the REST API and WebDAV): protocol: and ip: tokens are refused
elsewhere exactly like an unknown token, with the refusal audited; node:*:r reads everything the owner reaches,
now or later, and writes nothing."""

from __future__ import annotations

import pytest

from files.models import Grant, Node
from tests.support.api_helpers import API, bearer, call
from tests.support.dav_support import DavClient
from tokens.audit import AuditEvent

UNKNOWN = "cpat_" + "A" * 50  # well-formed, unknown: the answer a refused token must look like


def _rest(client, raw: str, ip: str = "127.0.0.1"):
    return client.get(f"{API}/me", **bearer(raw), REMOTE_ADDR=ip)


def _dav(login: str, raw: str, ip: str = "127.0.0.1"):
    return DavClient(login, raw).propfind("/dav/", depth="0", environ_extra={"REMOTE_ADDR": ip})


def _same_as_unknown_on_rest(client, response) -> None:
    unknown = client.get(f"{API}/me", **bearer(UNKNOWN))
    assert response.status_code == unknown.status_code == 401
    assert response.json() == unknown.json()
    assert response["WWW-Authenticate"] == unknown["WWW-Authenticate"]


def test_a_webdav_token_is_refused_on_rest_like_an_unknown_token_and_audited(demo, client):
    token, raw = demo.token(demo.alice, scopes=["protocol:webdav"])
    _same_as_unknown_on_rest(client, _rest(client, raw))
    refusal = AuditEvent.objects.get(event=AuditEvent.REFUSED, token_id=token.lookup_id)
    assert refusal.reason == "protocol REST outside its scopes" and refusal.via == "REST"
    assert _dav("alice", raw).status == 207


def test_a_rest_token_is_refused_on_webdav(demo, client):
    token, raw = demo.token(demo.alice, scopes=["protocol:rest"])
    refused = _dav("alice", raw)
    assert refused.status == _dav("alice", UNKNOWN).status == 401
    assert AuditEvent.objects.get(token_id=token.lookup_id).reason == "protocol WebDAV outside its scopes"
    assert _rest(client, raw).status_code == 200


def test_an_s3_token_parses_and_works_on_no_other_protocol(demo, client):
    token, raw = demo.token(demo.alice, scopes=["protocol:s3"])
    assert token.scopes == ["protocol:s3"]
    assert _rest(client, raw).status_code == 401
    assert _dav("alice", raw).status == 401


def test_several_protocols_add_up(demo, client):
    _token, raw = demo.token(demo.alice, scopes=["protocol:rest", "protocol:webdav"])
    assert _rest(client, raw).status_code == 200 and _dav("alice", raw).status == 207


@pytest.mark.parametrize("network", ["ip:192.0.2.0/24", "ip:192.0.2.7", "ip:2001:db8::/32,ip:192.0.2.0/28"])
def test_an_address_token_is_refused_from_another_address_on_rest_and_webdav(demo, client, network):
    token, raw = demo.token(demo.alice, scopes=[network])
    assert _rest(client, raw, "192.0.2.7").status_code == 200
    assert _dav("alice", raw, "192.0.2.7").status == 207
    _same_as_unknown_on_rest(client, _rest(client, raw, "198.51.100.1"))
    assert _dav("alice", raw, "198.51.100.1").status == 401
    # Refusals of one token from one address for one reason, within a minute, are counted on one record.
    refusal = AuditEvent.objects.get(token_id=token.lookup_id)
    assert (refusal.reason, refusal.ip, refusal.count) == ("address 198.51.100.1 outside its scopes", "198.51.100.1", 2)


def test_the_address_is_the_client_behind_a_trusted_proxy(demo, client, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    _token, raw = demo.token(demo.alice, scopes=["ip:192.0.2.0/24"])
    proxied = DavClient("alice", raw).propfind(
        "/dav/", depth="0", environ_extra={"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "192.0.2.9"}
    )
    assert proxied.status == 207
    assert _dav("alice", raw, "10.0.0.1").status == 401  # the proxy's own address is not the client's


def test_a_refused_address_counts_as_a_failure_like_an_unknown_token(demo, client, settings):
    settings.AUTH_FAILURE_LIMIT = 2
    _token, raw = demo.token(demo.alice, scopes=["ip:192.0.2.0/24"])
    statuses = [_rest(client, raw, "198.51.100.1").status_code for _attempt in range(3)]
    assert statuses == [401, 401, 429]


# node:*:r: a read-only token that follows the owner's grants


@pytest.fixture
def reader(demo):
    return demo.token(demo.alice, scopes=["node:*:r"])[1]


def test_a_read_only_token_reads_everything_the_owner_reaches(demo, client, reader):
    assert (
        call(
            client, "GET", f"/nodes/{demo.node('/research/paper.txt').uuid}/content", headers=bearer(reader)
        ).status_code
        == 200
    )
    listing = call(client, "GET", "/workspaces", headers=bearer(reader)).json()
    assert {item["slug"] for item in listing} == {"common", "research"}
    assert not any(item["can_write"] for item in listing)
    assert DavClient("alice", reader).request("GET", "/dav/common/welcome.txt").status == 200


def test_a_read_only_token_writes_nothing_over_rest(demo, client, reader):
    folder, readme = demo.node("/common/projects/alpha"), demo.node("/common/projects/alpha/readme.txt")
    headers = bearer(reader)
    assert call(client, "PUT", f"/nodes/{folder.uuid}/children/new.txt", b"x", headers).status_code == 403
    assert call(client, "PUT", f"/nodes/{readme.uuid}/content", b"x", headers).status_code == 403
    assert (
        call(client, "POST", f"/nodes/{folder.uuid}/children", {"name": "n", "type": "folder"}, headers).status_code
        == 403
    )
    assert call(client, "PATCH", f"/nodes/{readme.uuid}", {"name": "renamed.txt"}, headers).status_code == 403
    assert call(client, "DELETE", f"/nodes/{readme.uuid}", headers=headers).status_code == 403
    assert Node.objects.filter(uuid=readme.uuid, name="readme.txt").exists()


def test_a_read_only_token_writes_nothing_over_webdav(demo, reader):
    dav = DavClient("alice", reader)
    assert dav.put("/dav/common/projects/alpha/new.txt", b"x").status == 403
    assert dav.put("/dav/common/welcome.txt", b"x").status == 403
    assert dav.request("MKCOL", "/dav/research/new").status == 403
    assert dav.request("DELETE", "/dav/research/paper.txt").status == 403
    assert dav.request("MOVE", "/dav/research/paper.txt", destination="/dav/research/moved.txt").status == 403
    assert not Node.objects.filter(name__in=["new.txt", "new", "moved.txt"]).exists()


def test_a_read_only_token_reads_a_workspace_granted_after_its_creation(demo, client):
    _token, raw = demo.token(demo.bob, scopes=["node:*:r"])
    paper = demo.node("/research/paper.txt")
    assert call(client, "GET", f"/nodes/{paper.uuid}", headers=bearer(raw)).status_code == 404
    Grant.objects.create(user=demo.bob, workspace=demo.research, level=Grant.READ_WRITE)
    assert call(client, "GET", f"/nodes/{paper.uuid}/content", headers=bearer(raw)).status_code == 200
    assert DavClient("bob", raw).request("GET", "/dav/research/paper.txt").status == 200
    assert call(client, "PUT", f"/nodes/{paper.uuid}/content", b"x", bearer(raw)).status_code == 403


def test_every_node_with_write_writes_where_the_owner_may(demo, client):
    _token, raw = demo.token(demo.bob, scopes=["node:*:rw"])
    common, research = demo.node("/common"), demo.node("/research")
    assert (
        call(client, "POST", f"/nodes/{common.uuid}/children", {"name": "n", "type": "folder"}, bearer(raw)).status_code
        == 403
    )
    Grant.objects.create(user=demo.bob, workspace=demo.research, level=Grant.READ_WRITE)
    assert (
        call(
            client, "POST", f"/nodes/{research.uuid}/children", {"name": "n", "type": "folder"}, bearer(raw)
        ).status_code
        == 201
    )


def test_every_node_adds_up_with_a_named_node(demo, client):
    alpha = demo.node("/common/projects/alpha")
    _token, raw = demo.token(demo.alice, scopes=["node:*:r", f"node:{alpha.uuid}:rw"])
    assert call(client, "PUT", f"/nodes/{alpha.uuid}/children/new.txt", b"x", bearer(raw)).status_code == 201
    welcome = demo.node("/common/welcome.txt")
    assert call(client, "PUT", f"/nodes/{welcome.uuid}/content", b"x", bearer(raw)).status_code == 403
