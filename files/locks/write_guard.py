"""Writes that ask the locks again where they take place, and writes from outside WebDAV that honour them.

:class:`WriteGuard` is the precondition an upload hands ``files.services.write_file``: the locks (read afresh,
ordered against LOCK requests: ``files.locks.ordering.check_still_writable``), the request's ``If-Match`` /
``If-None-Match`` / ``If-Unmodified-Since`` and the entity tags of a WebDAV ``If:`` header, asked where the
write happens. :func:`refuse_if_locked` is how the REST API, which cannot present a lock token, honours the
locks that WebDAV clients hold.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from wsgidav import util
from wsgidav.dav_error import HTTP_LOCKED, DAVError
from wsgidav.lock_man.lock_manager import normalize_lock_root

from files.blobs import CHUNK_SIZE
from files.errors import Locked
from files.locks import held_locks
from files.locks.ordering import check_still_writable, no_lock_against_new
from files.locks.storage import DatabaseLockManager, DatabaseLockStorage, locks_over
from files.models import DavLock

if TYPE_CHECKING:
    from wsgidav.dav_provider import DAVNonCollection

    from files.conditions import Conditions
    from files.models import Node
    from files.raw_sql import SqlCondition


#: Asks whether a write may change ``url`` (and, for a new resource, the members of ``new_in``); raises if not.
LockCheck = Callable[[str, "str | None"], None]
#: Whether a WebDAV ``If:`` header holds for the file with this entity tag (None: no file).
IfHeaderCheck = Callable[["str | None"], bool]


class WriteGuard:
    """What a write must still satisfy where it takes place (``files.services.write_file`` asks it under the row
    lock of the file it replaces; a new file's INSERT states it as a condition, :meth:`new_file_condition`,
    where it can): the locks, read afresh by
    ``check`` (:func:`check_still_writable` for WebDAV, :func:`refuse_if_locked` for the REST API), and the
    request's conditions (``files.conditions``; for WebDAV also an ``If:`` header's entity tags, ``if_header``)
    against the file as it is then, so that two clients that read the same version cannot both replace it.
    ``url`` is the file's lock URL, ``folder_url`` its folder's."""

    def __init__(
        self,
        check: LockCheck,
        *,
        url: str,
        folder_url: str,
        conditions: Conditions | None,
        if_header: IfHeaderCheck | None = None,
    ) -> None:
        self._check = check
        self._url, self._folder_url = url, folder_url
        self._conditions = conditions
        self._if_header = if_header

    def allows(self, current: Node | None) -> bool:
        self._check(self._url, self._folder_url if current is None else None)
        if self._conditions is not None and not self._conditions.allows(current):
            return False
        return self._if_header is None or self._if_header(current.etag if current is not None else None)

    def new_file_condition(self) -> SqlCondition | None:
        """A new file is allowed where no lock holds against it at all, as the INSERT can ask that itself where
        one statement is ordered against LOCK requests (``files.locks.ordering.no_lock_against_new``): then whatever
        ``check`` would make of the request's lock tokens, it lets the write through. Not with an If-Match,
        which no new file satisfies, nor with an ``If:`` header, which is asked in the transaction."""
        if self._if_header is not None or (self._conditions is not None and not self._conditions.allows(None)):
            return None
        return no_lock_against_new(self._url, folder=self._folder_url)

    def check_locks(self, *, exists: bool) -> None:
        """The locks alone, now: before a long body is read."""
        self._check(self._url, None if exists else self._folder_url)


def checked_before_body(length: int | None) -> bool:
    """Whether an upload of ``length`` bytes (None: not declared, a chunked body) has its locks checked before
    its body is read, as well as where it is written. A small body is not worth refusing early: its one look at
    the locks is the one in the write's transaction."""
    return length is None or length > CHUNK_SIZE


def url_of(node: Node) -> str:
    """The URL a WebDAV lock on ``node`` is rooted at (WsgiDAV's ref URL: the quoted path under ``/dav``)."""
    url: str = normalize_lock_root(quote(node.public_path))
    return url


def refuse_if_locked(url: str, *, depth: str = "0", new_in: str | None = None) -> None:
    """:class:`files.errors.Locked` if a lock covers ``url`` (and, with ``depth`` infinity, anything below it)
    or the members of ``new_in``. For writes that cannot present a lock token, such as the REST API's: a lock
    taken by a WebDAV client (an editor that has the file open) holds against them, whoever owns it. Called in
    the transaction that writes, it is ordered against LOCK requests as :func:`check_still_writable` is."""
    try:
        check_still_writable(_outside, url=url, new_in=new_in, token_list=[], principal="", depth=depth)
    except DAVError as error:
        if error.value != HTTP_LOCKED:
            raise
        raise Locked(_locked_message(url, depth=depth, new_in=new_in)) from None


def _locked_message(url: str, *, depth: str, new_in: str | None) -> str:
    """Why a write is refused, for the person whose script it is: whose lock, taken by which application, and
    until when (as a WebDAV client would see in the lock's discovery). Only read when a write is refused."""
    tokens = [lock["token"] for lock in locks_over(url, include_children=depth == "infinity")]
    if new_in is not None:
        tokens += [lock["token"] for lock in locks_over(new_in, include_children=False)]
    found = held_locks.describe(DavLock.objects.filter(token__in=tokens))
    if not found:  # released or expired since
        return "A WebDAV lock holds this (an application has it open); try again once it is unlocked."
    lock = found[0]
    by = f" ({lock.client})" if lock.client else ""
    return (
        f"A WebDAV lock of {lock.holder}'s{by} holds {lock.path} until {lock.expires_at:%Y-%m-%d %H:%M} UTC: "
        "it can be changed once that application closes the file, or the lock is released (WebDAV locks, in the "
        "console)."
    )


def if_header_check(resource: DAVNonCollection, environ: dict[str, Any]) -> IfHeaderCheck | None:
    """The request's ``If:`` header (RFC 4918 §10.4) as a check of the file's entity tag where an upload over
    ``resource`` is written: WsgiDAV evaluates the header before the body, and another client may replace the
    file while it arrives. The header's lock tokens count as WsgiDAV counts them (the principal's locks over the
    URL); whether the locks still allow the write is ``check_still_writable``'s to say. None without an ``If:``
    header."""
    conditions = environ.get("wsgidav.conditions.if")
    if not conditions:
        return None
    url = resource.get_ref_url()

    def holds(etag: str | None) -> bool:
        held = resource.provider.lock_manager.get_indirect_url_lock_list(url, principal=environ["wsgidav.user_name"])
        tokens = [lock["token"] for lock in held]
        # "[]" stands for "no entity", as WsgiDAV's own evaluation has it.
        return bool(util.test_if_header_dict(resource, conditions, url, tokens, etag if etag is not None else "[]"))

    return holds


def folder_of(url: str) -> str:
    """The lock URL of the folder that holds ``url``."""
    return url.rsplit("/", 1)[0] or "/"


def member_url(folder: Node, name: str) -> str:
    """The lock URL of ``name`` in ``folder``, whether or not it exists yet."""
    return url_of(folder).rstrip("/") + "/" + quote(name)


def upload_guard(url: str, conditions: Conditions | None) -> WriteGuard:
    """The precondition (``files.services.write_file``) of an upload to ``url`` from outside WebDAV."""
    return WriteGuard(
        lambda url, new_in: refuse_if_locked(url, new_in=new_in),
        url=url,
        folder_url=folder_of(url),
        conditions=conditions,
    )


#: The lock manager that writes from outside WebDAV ask (the same database, the same conflict rules).
_outside = DatabaseLockManager(DatabaseLockStorage())
