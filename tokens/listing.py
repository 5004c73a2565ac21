"""What the tokens tab shows for each token, read in two queries whatever the number of tokens: one for the
tokens (with their creators), one for every node their scopes name."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from files.models import Node
from tokens.durations import format_duration
from tokens.models import PersonalAccessToken

if TYPE_CHECKING:
    from people.models import User


def expiration_label(token: PersonalAccessToken) -> str:
    """``Hard Limit`` or ``Auto Refresh (1h)``, the window in the command line's duration syntax."""
    label = token.get_expiration_model_display()
    if token.refresh_window is not None:
        label += f" ({format_duration(token.refresh_window)})"
    return label


@dataclass(frozen=True)
class ScopeLine:
    #: The node's public path, or None when the node is gone (the scope then grants nothing).
    path: str | None
    perm: str


@dataclass(frozen=True)
class TokenRow:
    token: PersonalAccessToken
    scopes: list[ScopeLine]
    delete_url: str

    @property
    def model_label(self) -> str:
        return expiration_label(self.token)

    @property
    def created_via(self) -> str:
        return self.token.get_created_via_display() or "unknown"

    @property
    def status_class(self) -> str:
        return self.token.status.lower().replace(" ", "-")


def token_rows(owner: User, delete_url: Callable[[PersonalAccessToken], str]) -> list[TokenRow]:
    tokens = list(PersonalAccessToken.objects.filter(owner=owner).select_related("created_by").order_by("-created_at"))
    node_ids: set[uuid.UUID] = {scope.node for token in tokens for scope in token.parsed_scopes}
    nodes = Node.objects.select_related("workspace").in_bulk(list(node_ids)) if node_ids else {}
    rows = []
    for token in tokens:
        lines = []
        for scope in token.parsed_scopes:
            node = nodes.get(scope.node)
            lines.append(ScopeLine(path=node.public_path if node is not None else None, perm=scope.perm))
        rows.append(TokenRow(token=token, scopes=lines, delete_url=delete_url(token)))
    return rows
