"""What the tokens tab shows for each token of a page, read in two queries whatever the number of tokens: one
for the page of tokens (with their creators), one for every node their scopes name. The details a row expands
to (recent uses) are read on demand, one token at a time, so a page never carries them."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils import timezone

from files.models import Node
from tokens.durations import format_duration
from tokens.models import RECENT_USES, PersonalAccessToken
from tokens.scopes import TokenScopes

if TYPE_CHECKING:
    from people.models import User


#: Display names of the choices, read from plain dicts: ``get_FOO_display`` rebuilds its map on every call, and a
#: list asks for them on every row.
_MODEL_NAMES = dict(PersonalAccessToken.MODELS)
_VIA_NAMES = dict(PersonalAccessToken.VIA)
_PERM_NAMES = {"r": "read", "w": "write", "rw": "read and write"}


def expiration_label(token: PersonalAccessToken) -> str:
    """``Hard Limit`` or ``Auto Refresh (1h)``, the window in the command line's duration syntax."""
    label = _MODEL_NAMES.get(token.expiration_model, token.expiration_model)
    if token.refresh_window is not None:
        label += f" ({format_duration(token.refresh_window)})"
    return label


def created_via_label(token: PersonalAccessToken) -> str:
    """``console``, ``command line``, or ``unknown`` for tokens older than the record of their origin."""
    return _VIA_NAMES.get(token.created_via) or "unknown"


@dataclass(frozen=True)
class ScopeLine:
    #: The node's public path, or None when the node is gone (the scope then grants nothing) or when the scope is
    #: ``node:*`` (every node the owner reaches).
    path: str | None
    perm: str
    everywhere: bool = False

    @property
    def perm_name(self) -> str:
        return _PERM_NAMES.get(self.perm, self.perm)


@dataclass(frozen=True)
class RecentUse:
    """One distinct way a token was used (IP, protocol, user agent), with when it was first and last seen."""

    ip: str | None
    protocol: str
    agent: str
    first_seen: datetime | None
    last_seen: datetime | None

    @classmethod
    def from_stored(cls, use: dict[str, Any]) -> RecentUse:
        return cls(
            ip=use.get("ip"),
            protocol=use.get("protocol") or "",
            agent=use.get("agent") or "",
            first_seen=_moment(use.get("first_seen")),
            last_seen=_moment(use.get("last_seen")),
        )


def _moment(value: object) -> datetime | None:
    # Written by the model as isoformat(); anything else (a hand-edited row) shows as unknown, never a 500.
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def scope_kinds(scopes: TokenScopes) -> list[str]:
    """What the inventory says of a token's scopes without reading their nodes: read only, narrowed to nodes,
    and the other kinds in words."""
    lines = []
    if scopes.read_only:
        lines.append("read only")
    if any(scope.node is not None for scope in scopes.nodes):
        named = sum(scope.node is not None for scope in scopes.nodes)
        lines.append(f"{named} node scope{'s' if named != 1 else ''}")
    return lines + scopes.restrictions()


#: What ended a revoked token, as its row says it.
_ENDINGS = {
    PersonalAccessToken.DELETED: "Deleted",
    PersonalAccessToken.ROTATED: "Rotated",
    PersonalAccessToken.LEAKED: "Reported leaked",
}

#: The statuses of a token that no longer authenticates.
ENDED = frozenset({"Expired", "Revoked"})


def status_class(status: str) -> str:
    return status.lower().replace(" ", "-")


@dataclass(frozen=True)
class TokenRow:
    """A token and what its row shows, computed once: a page renders each of these several times."""

    token: PersonalAccessToken
    scopes: list[ScopeLine]
    delete_url: str
    rotate_url: str = ""
    #: The page (or, by htmx, the fragment) with this token's details.
    details_url: str = ""
    #: ``token.status`` and ``token.usage`` at the moment the page was read: one moment for the whole page keeps
    #: its rows consistent.
    status: str = ""
    usage: str = ""
    #: The token's uuid as text, for the row's element ids.
    id: str = ""
    model_label: str = ""
    created_via: str = ""
    #: The protocols, addresses and token management of its scopes, in words.
    restrictions: tuple[str, ...] = ()

    @property
    def ended(self) -> bool:
        """No longer works: expired, or revoked (deleted while it still worked)."""
        return self.status in ENDED

    @property
    def status_class(self) -> str:
        return status_class(self.status)

    @property
    def ending(self) -> str:
        """What revoked it: "Deleted", "Rotated" or "Reported leaked"."""
        return _ENDINGS.get(self.token.revoked_how, "Revoked")

    @property
    def usage_class(self) -> str:
        return status_class(self.usage)

    #: How many ways of use a token remembers (said in the details' caption).
    recent_limit = RECENT_USES

    @property
    def recent_uses(self) -> list[RecentUse]:
        return [RecentUse.from_stored(use) for use in self.token.recent_uses if isinstance(use, dict)]


#: What a list row never shows: read with the details of one token only.
_DETAILS_ONLY = ("recent_uses", "reminders_sent")


def live_tokens(owner: User, now: datetime) -> QuerySet[PersonalAccessToken]:
    """The owner's tokens that still authenticate, newest first."""
    return (
        PersonalAccessToken.objects.filter(owner=owner, expires_at__gt=now)
        .select_related("created_by")
        .defer(*_DETAILS_ONLY)
        .order_by("-created_at", "-pk")
    )


def inactive_tokens(owner: User, now: datetime) -> QuerySet[PersonalAccessToken]:
    """The owner's expired and revoked tokens (kept until the retention prunes them), the most recently ended
    first (revoking brings ``expires_at`` down to that moment)."""
    return (
        PersonalAccessToken.objects.filter(owner=owner, expires_at__lte=now)
        .select_related("created_by")
        .defer(*_DETAILS_ONLY)
        .order_by("-expires_at", "-pk")
    )


def token_rows(
    tokens: Iterable[PersonalAccessToken],
    delete_url: Callable[[PersonalAccessToken], str],
    rotate_url: Callable[[PersonalAccessToken], str] | None = None,
    details_url: Callable[[PersonalAccessToken], str] | None = None,
) -> list[TokenRow]:
    tokens = list(tokens)
    now = timezone.now()
    # Each token's scopes parsed once: the row shows their nodes and, in words, the other kinds.
    scope_sets = [token.scope_set for token in tokens]
    node_ids: set[uuid.UUID] = {
        scope.node for scope_set in scope_sets for scope in scope_set.nodes if scope.node is not None
    }
    nodes = Node.objects.select_related("workspace").in_bulk(list(node_ids)) if node_ids else {}
    rows = []
    for token, scope_set in zip(tokens, scope_sets, strict=True):
        lines = []
        for scope in scope_set.nodes:
            node = nodes.get(scope.node) if scope.node is not None else None
            lines.append(
                ScopeLine(
                    path=node.public_path if node is not None else None, perm=scope.perm, everywhere=scope.everywhere
                )
            )
        rows.append(
            TokenRow(
                token=token,
                scopes=lines,
                delete_url=delete_url(token),
                rotate_url=rotate_url(token) if rotate_url is not None else "",
                details_url=details_url(token) if details_url is not None else "",
                status=token.status_at(now),
                usage=token.usage_at(now),
                id=str(token.uuid),
                model_label=expiration_label(token),
                created_via=created_via_label(token),
                restrictions=tuple(scope_set.restrictions()),
            )
        )
    return rows
