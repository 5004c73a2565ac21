"""The one parser for token scopes: ``node:<NODE_UUID>:<PERM>``, PERM one or both of ``r`` and ``w``.

``parse_scope`` accepts any order of the permission letters (``wr``) and any case of the uuid; ``str(scope)``
is the canonical form (``node:<lowercase uuid>:rw``) that the database stores and the console shows.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

_SCOPE = re.compile(r"node:(?P<node>[0-9a-fA-F-]{32,36}):(?P<perm>[rw]{1,2})")


class ScopeError(ValueError):
    """A scope string that is not ``node:<uuid>:r|w|rw``."""


@dataclass(frozen=True, order=True)
class Scope:
    node: uuid.UUID
    read: bool
    write: bool

    @property
    def perm(self) -> str:
        return ("r" if self.read else "") + ("w" if self.write else "")

    def __str__(self) -> str:
        return f"node:{self.node}:{self.perm}"


def parse_scope(text: str) -> Scope:
    match = _SCOPE.fullmatch(text.strip())
    if match is None:
        raise ScopeError(f"invalid scope {text!r}: expected node:<NODE_UUID>:r, :w or :rw")
    perm = match["perm"]
    if len(perm) != len(set(perm)):
        raise ScopeError(f"invalid scope {text!r}: permission must be r, w or rw")
    try:
        node = uuid.UUID(match["node"])
    except ValueError:
        raise ScopeError(f"invalid scope {text!r}: {match['node']!r} is not a node uuid") from None
    return Scope(node=node, read="r" in perm, write="w" in perm)


def parse_scopes(values: Iterable[str]) -> list[Scope]:
    """Scopes from repeated and/or comma-separated values; the same node named twice gets the union."""
    merged: dict[uuid.UUID, Scope] = {}
    for value in values:
        for part in value.split(","):
            if not part.strip():
                continue
            scope = parse_scope(part)
            seen = merged.get(scope.node)
            if seen is not None:
                scope = Scope(scope.node, seen.read or scope.read, seen.write or scope.write)
            merged[scope.node] = scope
    return sorted(merged.values())
