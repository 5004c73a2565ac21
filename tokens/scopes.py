"""The one parser and the one validator of token scopes, every kind. The console, the command line and the REST
API hand the strings a person or a script gave to :func:`parse_scopes`, and a token is issued only after
:func:`validate` (``PersonalAccessToken.objects.issue`` calls it).

A scope is ``KIND:VALUE``. Within a kind scopes add up; across kinds all must hold; a kind that is absent does
not restrict, except ``tokens:`` (without it a token manages only itself):

- ``node:<NODE_UUID>:<PERM>``, ``node:*:<PERM>`` (PERM ``r``, ``w`` or both): which files, read by the rights
  function (``files.scopes`` parses the kind, ``files.rights`` decides with it);
- ``protocol:rest``, ``protocol:webdav``, ``protocol:s3``: the protocols the token authenticates on;
- ``ip:<address or CIDR>``, IPv4 or IPv6: the client addresses it authenticates from, as
  ``lib.client_address`` determines them behind the trusted proxies;
- ``tokens:self`` (manage its owner's tokens over the REST API), ``tokens:all`` (an administrator's token that
  manages everyone's).

Unknown kinds and malformed values are refused with a message that names the scope; repeats merge. The
canonical strings (``TokenScopes.strings``) are what the database stores, in a fixed order.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from files.models import Node
from files.rights import Access, rights_for
from files.scopes import Scope, ScopeError, parse_node_scope

if TYPE_CHECKING:
    from people.models import User

__all__ = ["AddressError", "Scope", "ScopeError", "TokenScopes", "parse_scopes", "stored_scopes", "validate"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: The protocols a token authenticates on, by the name ``tokens.auth.authenticate`` is called with.
REST = "REST"
WEBDAV = "WebDAV"
S3 = "S3"
#: ``protocol:`` values → protocol names, in the canonical order.
PROTOCOLS = {"rest": REST, "webdav": WEBDAV, "s3": S3}

#: ``tokens:`` values, weakest first: what a token may do with tokens beyond reading, rotating and deleting itself.
MANAGES = ("", "self", "all")
KINDS = ("node", "protocol", "ip", "tokens")


@dataclass(frozen=True)
class TokenScopes:
    """A token's scopes, parsed and merged: one field per kind."""

    #: ``node:`` scopes, one per node (``node:*`` first); none: every node the owner reaches.
    nodes: tuple[Scope, ...] = ()
    #: ``protocol:`` values (``rest``, ``webdav``, ``s3``); none: every protocol.
    protocols: frozenset[str] = frozenset()
    #: ``ip:`` networks, collapsed; none: from any address.
    networks: tuple[Network, ...] = ()
    #: ``""``, ``"self"`` or ``"all"``.
    manages: str = ""

    @property
    def strings(self) -> list[str]:
        """The canonical strings, in the order the database keeps them."""
        return [
            *(str(scope) for scope in self.nodes),
            *(f"protocol:{value}" for value in PROTOCOLS if value in self.protocols),
            *(f"ip:{_network_text(network)}" for network in self.networks),
            *([f"tokens:{self.manages}"] if self.manages else []),
        ]

    def allows_protocol(self, protocol: str) -> bool:
        return not self.protocols or any(PROTOCOLS[value] == protocol for value in self.protocols)

    def allows_address(self, ip: str | None) -> bool:
        if not self.networks:
            return True
        address = _client_address(ip)
        return address is not None and any(
            address.version == network.version and address in network for network in self.networks
        )

    @property
    def read_only(self) -> bool:
        """Whether the node scopes allow no write anywhere (``node:*:r`` and the like)."""
        return bool(self.nodes) and not any(scope.write for scope in self.nodes)

    @property
    def everywhere(self) -> Scope | None:
        """The ``node:*`` scope, if there is one."""
        return next((scope for scope in self.nodes if scope.node is None), None)

    @property
    def protocol_names(self) -> list[str]:
        return [name for value, name in PROTOCOLS.items() if value in self.protocols]

    def restrictions(self) -> list[str]:
        """The kinds beside the node scopes, in words, for lists (the console, ``token_list``)."""
        lines = []
        if self.protocols:
            lines.append("only over " + ", ".join(self.protocol_names))
        if self.networks:
            lines.append("only from " + ", ".join(_network_text(network) for network in self.networks))
        if self.manages == "self":
            lines.append("manages its owner's tokens")
        elif self.manages == "all":
            lines.append("manages everyone's tokens")
        return lines


def _network_text(network: Network) -> str:
    """An address alone when the network is one address, else ``address/prefix``."""
    return str(network.network_address) if network.num_addresses == 1 else str(network)


def _client_address(ip: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class AddressError(ScopeError):
    """An ``ip:`` value that is no address or network; ``detail`` says why without the scope's syntax (for a
    form field of addresses)."""

    def __init__(self, value: str, detail: str) -> None:
        super().__init__(f"invalid scope {'ip:' + value!r}: {detail}")
        self.detail = detail


def parse_network(text: str) -> Network:
    """The value of an ``ip:`` scope: an IPv4 or IPv6 address or CIDR network, without host bits."""
    value = text.strip()
    if not value or "%" in value or any(char.isspace() for char in value):
        raise AddressError(value, "give an IPv4 or IPv6 address or network, e.g. 192.0.2.0/24")
    try:
        return _unmapped(ipaddress.ip_network(value))
    except ValueError:
        pass
    try:
        loose = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise AddressError(value, f"{value!r} is not an IPv4 or IPv6 address or network, e.g. 192.0.2.0/24") from None
    raise AddressError(value, f"{value} has host bits set; did you mean {loose}?")


_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


def _unmapped(network: Network) -> Network:
    """IPv4 written as IPv4-mapped IPv6 (``::ffff:192.0.2.0/120``) is IPv4: client addresses are compared so."""
    if isinstance(network, ipaddress.IPv6Network) and network.subnet_of(_MAPPED):
        return ipaddress.IPv4Network((int(network.network_address) & 0xFFFFFFFF, network.prefixlen - 96))
    return network


def _collapse(networks: list[Network]) -> tuple[Network, ...]:
    """Overlapping and adjacent networks merged, IPv4 first."""
    v4 = [network for network in networks if isinstance(network, ipaddress.IPv4Network)]
    v6 = [network for network in networks if isinstance(network, ipaddress.IPv6Network)]
    return (*ipaddress.collapse_addresses(v4), *ipaddress.collapse_addresses(v6))


def parse_scopes(values: Iterable[str]) -> TokenScopes:
    """Scopes from repeated and/or comma-separated values; ScopeError naming the first that is not a scope."""
    nodes: dict[object, Scope] = {}
    protocols: set[str] = set()
    networks: list[Network] = []
    manages = ""
    for value in values:
        for part in value.split(","):
            text = part.strip()
            if not text:
                continue
            kind, colon, rest = text.partition(":")
            kind = kind.lower()
            if not colon or kind not in KINDS:
                raise ScopeError(
                    f"invalid scope {text!r}: unknown kind {kind!r}; a scope is node:…, protocol:…, ip:… or tokens:…"
                )
            if kind == "node":
                scope = parse_node_scope(f"node:{rest}")
                seen = nodes.get(scope.node)
                if seen is not None:
                    scope = Scope(scope.node, seen.read or scope.read, seen.write or scope.write)
                nodes[scope.node] = scope
            elif kind == "protocol":
                if rest.lower() not in PROTOCOLS:
                    raise ScopeError(f"invalid scope {text!r}: the protocol is rest, webdav or s3")
                protocols.add(rest.lower())
            elif kind == "ip":
                networks.append(parse_network(rest))
            else:
                if rest.lower() not in MANAGES[1:]:
                    raise ScopeError(f"invalid scope {text!r}: expected tokens:self or tokens:all")
                manages = max(manages, rest.lower(), key=MANAGES.index)
    return TokenScopes(
        nodes=tuple(sorted(nodes.values(), key=lambda scope: scope.sort_key)),
        protocols=frozenset(protocols),
        networks=_collapse(networks),
        manages=manages,
    )


@lru_cache(maxsize=1024)
def _stored(strings: tuple[str, ...]) -> TokenScopes:
    return parse_scopes(strings)


def stored_scopes(strings: Iterable[str]) -> TokenScopes:
    """A token's stored scopes, parsed once per distinct list: every authenticated request reads them."""
    return _stored(tuple(strings))


def validate(owner: User, scopes: TokenScopes, *, by_admin: bool) -> None:
    """ScopeError saying which scope ``owner``'s token may not have.

    A node scope must name a node the owner can read, and ask ``w`` only where the owner may write; ``node:*``
    names no node and is never refused (it is intersected with the owner's rights at each request).
    ``tokens:all`` is given only to an administrator's token, by an administrator (``by_admin``; the command
    line counts as one). Protocols and addresses are whole once parsed."""
    if scopes.manages == "all":
        if not owner.is_admin:
            who = f"{owner.login} is no administrator"
            raise ScopeError(f"Scope tokens:all: only an administrator's token may manage everyone's tokens; {who}.")
        if not by_admin:
            raise ScopeError("Scope tokens:all: only an administrator may give it.")
    named = [scope for scope in scopes.nodes if scope.node is not None]
    if not named:
        return
    rights = rights_for(owner)
    nodes = Node.objects.select_related("workspace").in_bulk([scope.node for scope in named])
    for scope in named:
        node = nodes.get(scope.node)
        access = rights.access(node) if node is not None else Access.NONE
        if Access.READ not in access:
            # The same words whether the node is missing or hidden: a scope is no way to probe the tree.
            raise ScopeError(f"Scope {scope}: no node {scope.node} that {owner.login} can read.")
        if scope.write and Access.WRITE not in access:
            raise ScopeError(
                f"Scope {scope}: {owner.login} may only read {node.public_path}, so 'w' cannot be granted."  # type: ignore[union-attr]
            )
