"""No escalation: a token made or rotated through another token never exceeds the token that made it.

:func:`escalation` is the one place that decides it, for every way a token makes another (a create or a rotation
over the REST API). The child stays within its parent when:

- **nodes**: the parent has no node scope (the owner's whole reach), or every permission letter of every child
  node scope is given, on that node, by a parent scope: ``node:*`` with the letter, or a scope with the letter
  on the same node or on a folder above it. A child without node scopes under a parent with some would reach
  everything, so it is refused;
- **protocols** and **addresses**: the parent restricts neither, or the child restricts them to a subset (every
  child network inside one of the parent's, which are collapsed, so a network the parent covers with several
  adjacent ones is inside their merged one);
- **token management**: ``tokens:`` no stronger than the parent's (nothing < ``self`` < ``all``);
- **life**: the child's end (a Hard Limit's expiry, an Auto Refresh token's absolute cap) is at most the
  parent's absolute end, or, where the parent has none, the parent's expiry at that moment; an Auto Refresh
  child's window is at most the parent's, when the parent has one (a Hard Limit parent bounds the child's cap).

A child made for another owner (``tokens:all``) is bounded by that owner's rights (``tokens.scopes.validate``)
and by the parent's node scopes, if any, read with the same rule.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from files.models import Node
from files.scopes import Scope
from tokens.scopes import MANAGES, PROTOCOLS, TokenScopes

if TYPE_CHECKING:
    from tokens.models import PersonalAccessToken

#: Where a node is: (workspace uuid, path inside it); None for a node that is gone.
Place = tuple[uuid.UUID, str]


@dataclass(frozen=True)
class Terms:
    """What a token may reach and how long it may live: all a parent bounds in its child."""

    scopes: TokenScopes
    #: The end no use pushes back: a Hard Limit's expiry, an Auto Refresh token's absolute cap (None: none).
    end: datetime | None
    #: The Auto Refresh window; None for a Hard Limit.
    window: timedelta | None
    #: The expiry as it is now (a parent without an end is bounded by it).
    expires_at: datetime

    @classmethod
    def of(cls, token: PersonalAccessToken) -> Terms:
        return cls(scopes=token.scope_set, end=token.hard_end, window=token.refresh_window, expires_at=token.expires_at)

    @property
    def latest(self) -> datetime:
        """The latest moment a child of this token may live to."""
        return self.end if self.end is not None else self.expires_at


def _within(place: Place | None, above: Place | None) -> bool:
    if place is None or above is None or place[0] != above[0]:
        return False
    return place[1] == above[1] or place[1].startswith(above[1] + "/")


def _gives(parent: Scope, letter: str, child: Scope, places: Mapping[uuid.UUID, Place | None]) -> bool:
    if not (parent.read if letter == "r" else parent.write):
        return False
    if parent.node is None:
        return True
    if child.node is None:
        return False
    return child.node == parent.node or _within(places.get(child.node), places.get(parent.node))


def _nodes(parent: TokenScopes, child: TokenScopes, places: Mapping[uuid.UUID, Place | None]) -> str | None:
    if not parent.nodes:
        return None
    if not child.nodes:
        return "without a node scope it would reach every file of its owner; give node scopes within the parent's"
    for scope in child.nodes:
        for letter in scope.perm:
            if not any(_gives(given, letter, scope, places) for given in parent.nodes):
                what = "read" if letter == "r" else "write"
                return f"scope {scope} would let it {what} where the parent may not"
    return None


def _protocols(parent: TokenScopes, child: TokenScopes) -> str | None:
    if not parent.protocols:
        return None
    allowed = ", ".join(f"protocol:{value}" for value in PROTOCOLS if value in parent.protocols)
    if not child.protocols:
        return f"without a protocol scope it would work on every protocol; the parent only has {allowed}"
    extra = [value for value in PROTOCOLS if value in child.protocols - parent.protocols]
    if extra:
        return f"scope protocol:{extra[0]} is beyond the parent's {allowed}"
    return None


def _addresses(parent: TokenScopes, child: TokenScopes) -> str | None:
    if not parent.networks:
        return None
    allowed = ", ".join(f"ip:{network}" for network in parent.networks)
    if not child.networks:
        return f"without an ip scope it would work from any address; the parent only from {allowed}"
    for network in child.networks:
        if not any(network.version == given.version and network.subnet_of(given) for given in parent.networks):  # type: ignore[arg-type]
            return f"scope ip:{network} reaches addresses beyond the parent's {allowed}"
    return None


def _manages(parent: TokenScopes, child: TokenScopes) -> str | None:
    if MANAGES.index(child.manages) > MANAGES.index(parent.manages):
        having = f"tokens:{parent.manages}" if parent.manages else "no tokens: scope"
        return f"scope tokens:{child.manages} manages more tokens than the parent's {having}"
    return None


def _life(parent: Terms, child: Terms) -> str | None:
    if child.end is None or child.end > parent.latest:
        return f"it would live past the parent's end, {parent.latest:%Y-%m-%d %H:%M:%S %Z}"
    if child.window is not None and parent.window is not None and child.window > parent.window:
        return "its refresh window would be longer than the parent's"
    return None


def escalation(parent: Terms, child: Terms, places: Mapping[uuid.UUID, Place | None]) -> str | None:
    """Why ``child`` would exceed ``parent``, for the person asking; None when it stays within it.

    ``places`` says where each node that either names is (``node_places``)."""
    for reason in (
        _nodes(parent.scopes, child.scopes, places),
        _protocols(parent.scopes, child.scopes),
        _addresses(parent.scopes, child.scopes),
        _manages(parent.scopes, child.scopes),
        _life(parent, child),
    ):
        if reason is not None:
            return reason
    return None


def node_places(*scope_sets: TokenScopes) -> dict[uuid.UUID, Place | None]:
    """Where the nodes that these scopes name are now, in one query (none when they name no node)."""
    ids = {scope.node for scopes in scope_sets for scope in scopes.nodes if scope.node is not None}
    if not ids:
        return {}
    found: dict[uuid.UUID, Place | None] = dict.fromkeys(ids)
    for key, workspace, path in Node.objects.filter(uuid__in=ids).values_list("uuid", "workspace_id", "path"):
        found[key] = (workspace, path)
    return found
