"""The create dialog's scope kinds beside the scope tree: Read only, protocols, allowed addresses and (for
administrators) token management; and the kinds as the tab, the details and the inventory show them."""

from __future__ import annotations

import pytest

from tokens.models import PersonalAccessToken


def _create(client, path="/people/alice/tokens/new/", **data):
    fields = {"label": "kinds", "expiration_model": "hard", "duration": "3", "unit": "d"}
    fields.update(data)
    return client.post(path, fields, HTTP_HX_REQUEST="true")


def test_the_dialog_offers_read_only_protocols_and_addresses(admin_client):
    html = admin_client.get("/people/alice/tokens/new/", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="id_read_only"' in html and ">Read only</label>" in html
    for value, name in (("rest", "REST"), ("webdav", "WebDAV"), ("s3", "S3")):
        assert f'id="id_protocol_{value}"' in html and f">{name}</label>" in html
    assert ">Allowed addresses" in html


def test_only_an_administrator_is_offered_token_management(admin_client, alice_client):
    assert "Token management" in admin_client.get("/people/alice/tokens/new/").content.decode()
    assert "Token management" not in alice_client.get("/me/tokens/new/").content.decode()


def test_read_only_without_a_chosen_node_reads_every_file(admin_client, demo):
    assert _create(admin_client, read_only="on").status_code == 200
    assert PersonalAccessToken.objects.get().scopes == ["node:*:r"]


def test_read_only_keeps_the_chosen_nodes_read_only(admin_client, demo):
    alpha = demo.node("/common/projects/alpha")
    _create(admin_client, read_only="on", scope=f"node:{alpha.uuid}:r")
    assert PersonalAccessToken.objects.get().scopes == [f"node:{alpha.uuid}:r"]


def test_read_only_with_a_write_scope_is_explained(admin_client, demo):
    alpha = demo.node("/common/projects/alpha")
    html = _create(admin_client, read_only="on", scope=f"node:{alpha.uuid}:rw").content.decode()
    assert "“Read only” is checked, but a scope below asks for w" in html
    assert 'id="id_read_only_error"' in html
    assert not PersonalAccessToken.objects.exists()


def test_protocols_and_addresses(admin_client, demo):
    _create(admin_client, protocols=["webdav", "s3"], addresses="192.0.2.0/24,  2001:db8::/32\n198.51.100.7")
    assert PersonalAccessToken.objects.get().scopes == [
        "protocol:webdav",
        "protocol:s3",
        "ip:192.0.2.0/24",
        "ip:198.51.100.7",
        "ip:2001:db8::/32",
    ]


def test_the_reveal_shows_only_the_uses_its_protocols_allow(admin_client, demo):
    html = _create(admin_client, protocols=["webdav"]).content.decode()
    assert "As the password on WebDAV" in html and "Authorization: Bearer" not in html


def test_each_bad_address_gets_its_message(admin_client, demo):
    html = _create(admin_client, addresses="192.0.2.1/24 intranet 10.0.0.0/8").content.decode()
    assert "192.0.2.1/24 has host bits set; did you mean 192.0.2.0/24?" in html
    assert "&#x27;intranet&#x27; is not an IPv4 or IPv6 address or network" in html
    assert 'id="id_addresses"' in html and 'aria-invalid="true"' in html
    assert 'value="192.0.2.1/24 intranet 10.0.0.0/8"' in html  # kept for correcting
    assert not PersonalAccessToken.objects.exists()


def test_an_unknown_protocol_is_refused(admin_client, demo):
    assert "Choose among REST, WebDAV and S3." in _create(admin_client, protocols=["ftp"]).content.decode()
    assert not PersonalAccessToken.objects.exists()


@pytest.mark.parametrize(
    ("login", "manages", "scopes"), [("alice", "self", ["tokens:self"]), ("admin", "all", ["tokens:all"])]
)
def test_an_administrator_gives_token_management(admin_client, demo, login, manages, scopes):
    _create(admin_client, path=f"/people/{login}/tokens/new/", manages=manages)
    assert PersonalAccessToken.objects.get().scopes == scopes


def test_tokens_all_is_refused_for_someone_who_is_no_administrator(admin_client, demo):
    assert "alice is no administrator" in _create(admin_client, manages="all").content.decode()
    assert not PersonalAccessToken.objects.exists()


def test_token_management_posted_by_someone_else_is_not_read(alice_client, demo):
    _create(alice_client, path="/me/tokens/new/", manages="self")
    assert PersonalAccessToken.objects.get().scopes == []


def test_the_tab_details_and_inventory_show_the_kinds(admin_client, demo):
    demo.token(demo.alice, label="kinds", scopes=["node:*:r", "protocol:webdav", "ip:192.0.2.0/24", "tokens:self"])
    tab = admin_client.get("/people/alice/tokens/").content.decode()
    assert "All files" in tab and ">r</span>" in tab
    for words in ("only over WebDAV", "only from 192.0.2.0/24", "manages its owner&#x27;s tokens"):
        assert words in tab
    token = PersonalAccessToken.objects.get()
    details = admin_client.get(f"/people/alice/tokens/{token.uuid}/details/").content.decode()
    assert "All files" in details and "Only over WebDAV" in details
    inventory = admin_client.get("/tokens/").content.decode()
    for words in ("read only", "only over WebDAV", "only from 192.0.2.0/24", "manages its owner&#x27;s tokens"):
        assert words in inventory


def test_the_reveal_says_how_to_use_the_token_on_s3(admin_client, demo):
    html = _create(admin_client, protocols=["s3"]).content.decode()
    assert "As the access key ID on S3" in html and "bucket <strong>io</strong>" in html
    assert "As the password on WebDAV" not in html and "Authorization: Bearer" not in html
