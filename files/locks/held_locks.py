"""The WebDAV locks held now, told for people: the console's WebDAV locks tab and ``manage.py dav_locks``.

An application that has a file open over WebDAV (an editor, Finder, an office suite) holds a lock on it, and a
lock holds against WebDAV and the REST API alike until it expires or is released. One that crashed keeps its
lock until the lock's timeout: clients ask for hours, or for "Infinite", which becomes four weeks. Releasing
such a lock is deleting its record (``files.locks.storage`` reads them afresh on every request); the audit
trail keeps who did it (``tokens.services.locks_release``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, unquote

from django.db.models import Q, QuerySet
from wsgidav.xml_tools import etree

from files.models import DavLock
from people.models import User

#: How much of what a client wrote into a lock's ``<D:owner>`` is shown.
CLIENT_TEXT_LENGTH = 120


@dataclass(frozen=True)
class HeldLock:
    token: str
    #: ``/<workspace>/<names…>``, as people read it (locks are keyed by the quoted URL).
    path: str
    #: The holder's login (locks name users by uuid); the uuid itself for a user who is gone.
    holder: str
    #: ``exclusive`` or ``shared``.
    scope: str
    #: ``0`` or ``infinity``.
    depth: str
    expires_at: datetime
    #: What the client wrote into ``<D:owner>`` (often its name or a URL), as plain text; "" if nothing.
    client: str


def held(*, path: str | None = None, holder: User | None = None) -> QuerySet[DavLock]:
    """The unexpired locks: all, those at or below ``path`` (``/<workspace>/<names…>``), those of ``holder``.
    ValueError for a path that is no such path."""
    locks = DavLock.objects.filter(expire__gte=time.time())
    if holder is not None:
        locks = locks.filter(principal=str(holder.uuid))
    if path is None:
        return locks
    if not path.startswith("/") or "\x00" in path:
        raise ValueError(f"invalid path {path!r}: give /<workspace>/<path>")
    root = "/" + quote(path.strip("/"))
    return locks.filter(Q(root=root) | Q(root__startswith_exactly=root.rstrip("/") + "/"))


def describe(locks: Iterable[DavLock]) -> list[HeldLock]:
    """Each lock for people, by path: unquoted, with its holder's login and its client's own words."""
    locks = sorted(locks, key=lambda lock: lock.root)
    logins = {
        str(key): login for key, login in User.objects.filter(uuid__in=holder_uuids(locks)).values_list("uuid", "login")
    }
    return [
        HeldLock(
            token=lock.token,
            path=unquote(lock.root),
            holder=logins.get(lock.principal, lock.principal),
            scope=lock.scope,
            depth=lock.depth,
            expires_at=datetime.fromtimestamp(lock.expire, UTC),
            client=client_text(bytes(lock.owner)),
        )
        for lock in locks
    ]


def client_text(owner: bytes) -> str:
    """The text of a lock's ``<D:owner>`` element (WsgiDAV keeps it as XML), whitespace collapsed and cut."""
    if not owner.strip():
        return ""
    try:
        # The parser WsgiDAV read the LOCK body with (defusedxml's, or lxml): it wrote these bytes itself.
        element = etree.fromstring(owner)
    except Exception:  # whatever a parser raises for bytes it cannot read: nothing to show
        return ""
    text = " ".join(" ".join(element.itertext()).split())
    return text if len(text) <= CLIENT_TEXT_LENGTH else text[: CLIENT_TEXT_LENGTH - 1] + "…"


def holder_uuids(locks: Iterable[DavLock]) -> set[str]:
    """The holders' uuids (locks name users by uuid; one written otherwise names nobody here)."""
    return {lock.principal for lock in locks if _is_uuid(lock.principal)}


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
