"""The one parser and validator of token scopes, every kind: node, protocol, ip, tokens."""

from __future__ import annotations

import ipaddress
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from files.models import Grant
from tokens.scopes import ScopeError, TokenScopes, parse_scopes, validate

NODE = uuid.UUID("5c3e1f0a-9d2b-4c1e-8f00-0123456789ab")


def test_every_kind_parses_to_its_canonical_string():
    scopes = parse_scopes(
        [
            f"node:{str(NODE).upper()}:wr",
            "node:*:r",
            "protocol:WebDAV,protocol:rest",
            "ip:192.0.2.0/24",
            "ip:2001:db8::/32",
            "ip:198.51.100.7",
            "tokens:self",
        ]
    )
    assert scopes.strings == [
        "node:*:r",
        f"node:{NODE}:rw",
        "protocol:rest",
        "protocol:webdav",
        "ip:192.0.2.0/24",
        "ip:198.51.100.7",
        "ip:2001:db8::/32",
        "tokens:self",
    ]


def test_repeats_merge_within_a_kind():
    scopes = parse_scopes([f"node:{NODE}:r", f"node:{NODE}:w", "protocol:s3", "protocol:s3"])
    assert scopes.strings == [f"node:{NODE}:rw", "protocol:s3"]
    assert parse_scopes(["tokens:self", "tokens:all"]).manages == "all"


def test_ipv4_written_as_ipv6_is_ipv4():
    assert parse_scopes(["ip:::ffff:192.0.2.0/120"]).strings == ["ip:192.0.2.0/24"]


def test_covered_and_adjacent_networks_merge():
    scopes = parse_scopes(["ip:192.0.2.0/25", "ip:192.0.2.128/25", "ip:192.0.2.7"])
    assert scopes.strings == ["ip:192.0.2.0/24"]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("file:abc", "unknown kind 'file'"),
        ("nodes", "unknown kind"),
        ("protocol:ftp", "'protocol:ftp'"),
        ("protocol:", "'protocol:'"),
        ("ip:300.1.1.1", "'ip:300.1.1.1'"),
        ("ip:192.0.2.1/24", "did you mean 192.0.2.0/24"),
        ("ip:", "'ip:'"),
        ("ip:fe80::1%eth0", "'ip:fe80::1%eth0'"),
        ("tokens:everyone", "'tokens:everyone'"),
        ("node:*:x", "'node:*:x'"),
        (f"node:{NODE}", f"'node:{NODE}'"),
    ],
)
def test_a_malformed_scope_is_refused_with_a_message_naming_it(text, names):
    with pytest.raises(ScopeError) as refused:
        parse_scopes([text])
    assert names in str(refused.value)


def test_no_scope_restricts_nothing():
    scopes = parse_scopes([])
    assert scopes == TokenScopes()
    assert scopes.allows_protocol("WebDAV") and scopes.allows_address(None) and scopes.manages == ""


def test_protocol_scopes_allow_only_their_protocols():
    scopes = parse_scopes(["protocol:webdav", "protocol:s3"])
    assert scopes.allows_protocol("WebDAV") and scopes.allows_protocol("S3")
    assert not scopes.allows_protocol("REST") and not scopes.allows_protocol("")


def test_address_scopes_allow_only_their_addresses():
    scopes = parse_scopes(["ip:192.0.2.0/24", "ip:2001:db8::1"])
    assert scopes.allows_address("192.0.2.200")
    assert scopes.allows_address("::ffff:192.0.2.9")  # an IPv4 client seen through an IPv6 socket
    assert scopes.allows_address("2001:db8::1")
    assert not scopes.allows_address("192.0.3.1")
    assert not scopes.allows_address("2001:db8::2")
    assert not scopes.allows_address(None) and not scopes.allows_address("unknown")


kinds = st.one_of(
    st.builds(
        lambda node, perm: f"node:{node}:{perm}", st.uuids() | st.just("*"), st.sampled_from(["r", "w", "rw", "wr"])
    ),
    st.sampled_from(["protocol:rest", "protocol:webdav", "protocol:s3", "tokens:self", "tokens:all"]),
    st.ip_addresses(v=4).map(lambda a: f"ip:{a}"),
    st.ip_addresses(v=6).map(lambda a: f"ip:{a}"),
    st.builds(
        lambda address, prefix: f"ip:{ipaddress.ip_network(f'{address}/{prefix}', strict=False)}",
        st.ip_addresses(v=4),
        st.integers(0, 32),
    ),
)


@given(st.lists(kinds, max_size=8))
def test_the_canonical_form_reads_back_to_the_same_scopes(values):
    scopes = parse_scopes(values)
    assert parse_scopes(scopes.strings) == scopes
    assert parse_scopes([",".join(reversed(scopes.strings))]) == scopes


@given(st.lists(kinds, max_size=8))
def test_every_address_a_scope_list_allows_is_in_one_of_its_networks(values):
    scopes = parse_scopes(values)
    for network in scopes.networks:
        assert scopes.allows_address(str(network.network_address))
        assert scopes.allows_address(str(network.broadcast_address))


@given(st.text() | st.lists(st.text(alphabet="nodeiprtcklsfwa:*,/.0123456789")).map(",".join))
def test_the_parser_raises_only_its_own_error(text):
    try:
        parse_scopes([text])
    except ScopeError:
        pass


def test_a_node_scope_the_owner_cannot_read_is_refused(demo):
    paper = demo.node("/research/paper.txt")
    with pytest.raises(ScopeError, match=f"no node {paper.uuid} that bob can read"):
        validate(demo.bob, parse_scopes([f"node:{paper.uuid}:r"]), by_admin=False)


def test_a_write_scope_where_the_owner_only_reads_is_refused(demo):
    welcome = demo.node("/common/welcome.txt")
    with pytest.raises(ScopeError, match=r"may only read /common/welcome\.txt"):
        validate(demo.bob, parse_scopes([f"node:{welcome.uuid}:rw"]), by_admin=False)


def test_every_node_is_never_refused_for_the_owners_rights(demo):
    Grant.objects.filter(user=demo.bob).delete()
    validate(demo.bob, parse_scopes(["node:*:rw"]), by_admin=False)


def test_tokens_all_only_for_an_administrators_token_given_by_an_administrator(demo):
    everyone = parse_scopes(["tokens:all"])
    validate(demo.admin, everyone, by_admin=True)
    with pytest.raises(ScopeError, match="alice is no administrator"):
        validate(demo.alice, everyone, by_admin=True)
    with pytest.raises(ScopeError, match="only an administrator may give it"):
        validate(demo.admin, everyone, by_admin=False)
    validate(demo.alice, parse_scopes(["tokens:self"]), by_admin=False)
