"""Checks that a token's scopes stay within what its owner can reach when it is issued (SPEC §4)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from files.models import Node
from files.rights import Access, rights_for
from tokens.scopes import Scope

if TYPE_CHECKING:
    from people.models import User


def validate_scopes(owner: User, scopes: list[Scope]) -> list[Scope]:
    """The scopes unchanged, or TokenError saying which one reaches beyond the owner's rights."""
    from tokens.models import TokenError

    if not scopes:
        return scopes
    rights = rights_for(owner)
    nodes = Node.objects.select_related("workspace").in_bulk([scope.node for scope in scopes])
    for scope in scopes:
        node = nodes.get(scope.node)
        access = rights.access(node) if node is not None else Access.NONE
        if Access.READ not in access:
            # The same words whether the node is missing or hidden: a scope is no way to probe the tree.
            raise TokenError(f"Scope {scope}: no node {scope.node} that {owner.login} can read.")
        if scope.write and Access.WRITE not in access:
            raise TokenError(
                f"Scope {scope}: {owner.login} may only read {node.public_path}, so 'w' cannot be granted."  # type: ignore[union-attr]
            )
    return scopes
