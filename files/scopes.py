"""The node kind of token scopes: ``node:<NODE_UUID>:<PERM>`` and ``node:*:<PERM>``, PERM one or both of ``r``
and ``w``, as the rights function reads them.

``parse_node_scope`` accepts any order of the permission letters (``wr``) and any case of the uuid;
``str(scope)`` is the canonical form (``node:<lowercase uuid>:rw``, ``node:*:r``) that the database stores and
the console shows. ``node:*`` names no node: it stands for every node the owner reaches, now or later.

The other kinds (protocols, addresses, token management) belong to the token domain; ``tokens.scopes`` is the
one parser of a token's whole list, and hands the node kind to this module.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

_NODE_SCOPE = re.compile(r"node:(?P<node>\*|[0-9a-fA-F-]{32,36}):(?P<perm>[rw]{1,2})")


class ScopeError(ValueError):
    """A scope string that is not one of the scope kinds; the message names the scope."""


@dataclass(frozen=True)
class Scope:
    #: None for ``node:*``: every node the owner reaches.
    node: uuid.UUID | None
    read: bool
    write: bool

    @property
    def perm(self) -> str:
        return ("r" if self.read else "") + ("w" if self.write else "")

    @property
    def everywhere(self) -> bool:
        return self.node is None

    def __str__(self) -> str:
        return f"node:{'*' if self.node is None else self.node}:{self.perm}"

    @property
    def sort_key(self) -> tuple[bool, str]:
        """``node:*`` first, then by node uuid."""
        return (self.node is not None, str(self.node))


def parse_node_scope(text: str) -> Scope:
    match = _NODE_SCOPE.fullmatch(text.strip())
    if match is None:
        raise ScopeError(f"invalid scope {text!r}: expected node:<NODE_UUID>:r, :w or :rw, or node:*:r, :w or :rw")
    perm = match["perm"]
    if len(perm) != len(set(perm)):
        raise ScopeError(f"invalid scope {text!r}: permission must be r, w or rw")
    if match["node"] == "*":
        return Scope(node=None, read="r" in perm, write="w" in perm)
    try:
        node = uuid.UUID(match["node"])
    except ValueError:
        raise ScopeError(f"invalid scope {text!r}: {match['node']!r} is not a node uuid") from None
    return Scope(node=node, read="r" in perm, write="w" in perm)
