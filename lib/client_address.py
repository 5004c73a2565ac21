"""Who is on the other end of a request: its address, as the failure throttles and the audit trail count and
record it.

Served directly, that is the peer's address (``REMOTE_ADDR``). Behind a load balancer or reverse proxy, every
request comes from the proxy, and counting failures by its address would lock every user out after one
attacker's attempts. So when the peer is one of ``TRUSTED_PROXIES`` (addresses or networks), the address is
read from ``X-Forwarded-For``: walking it from the right (the end the proxies append to), the first hop that is
not itself a trusted proxy is the client. Whatever a client writes into the header itself stays to the left of
what its proxy appended, so it can neither choose its own address nor take another's. A hop that is no
address (``unknown``, a typo) ends the walk at the last address a trusted proxy vouched for.

python-ipware was considered: it picks from the header without asking whether the peer is a trusted proxy, so
a client reaching the application directly could name any address it likes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

from django.conf import settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=4)
def _networks(configured: tuple[str, ...]) -> tuple[Network, ...]:
    # The settings refuse an entry that is no address at start-up.
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in configured)


def trusted_proxies() -> tuple[Network, ...]:
    """The configured ``TRUSTED_PROXIES``, parsed."""
    return _networks(tuple(settings.TRUSTED_PROXIES))


def _address(text: str) -> Address | None:
    """An address as a proxy writes it: ``192.0.2.1``, ``2001:db8::1``, or with a port (``192.0.2.1:443``,
    ``[2001:db8::1]:443``); None for anything else."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_trusted(address: Address, networks: Iterable[Network]) -> bool:
    return any(address.version == network.version and address in network for network in networks)


def client_address(meta: Mapping[str, Any]) -> str | None:
    """The client's address for a WSGI environ or ``request.META``: the peer's, or (from a trusted proxy) the
    right-most untrusted hop of ``X-Forwarded-For``. None when the server did not say."""
    peer_text: str | None = meta.get("REMOTE_ADDR") or None
    if peer_text is None or not settings.TRUSTED_PROXIES:
        return peer_text
    networks = trusted_proxies()
    peer = _address(peer_text)
    if peer is None or not _is_trusted(peer, networks):
        return peer_text
    client = peer
    forwarded: str = meta.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed(forwarded.split(",")):
        address = _address(hop)
        if address is None:
            break
        client = address
        if not _is_trusted(address, networks):
            break
    return str(client)


#: Where :class:`ClientAddress` keeps the peer's own address once ``REMOTE_ADDR`` holds the client's.
PEER_KEY = "cellsadmin.peer_address"


def resolve(environ: dict[str, Any]) -> None:
    """Make ``REMOTE_ADDR`` the client's address (the peer's kept under :data:`PEER_KEY`); once per request."""
    if PEER_KEY in environ:
        return
    environ[PEER_KEY] = environ.get("REMOTE_ADDR")
    client = client_address(environ)
    if client is None:
        environ.pop("REMOTE_ADDR", None)
    else:
        environ["REMOTE_ADDR"] = client


class ClientAddress:
    """WSGI middleware around the whole application (console, REST API and WebDAV): every request's
    ``REMOTE_ADDR`` is its client's address from here on, decided once, so that the throttles, the audit trail
    and the last-use records all read it from the one place a WSGI application looks."""

    def __init__(self, application: Callable[..., Iterable[bytes]]) -> None:
        self.application = application

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        resolve(environ)
        return self.application(environ, start_response)
