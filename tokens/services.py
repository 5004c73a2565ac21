"""Token workflows that span the token, the audit trail and e-mail. The console, the commands and the REST API
call these.

Every function takes keyword-only arguments: ``actor`` is the person acting (None from the command line),
``via`` is how (``console``, ``cli`` or ``rest``), ``through`` the token a REST request came with, if it did:
what it makes may not exceed it (``tokens.escalation``), and the audit trail names it.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import partial
from typing import NamedTuple

from django.conf import settings
from django.core.mail import send_mail
from django.db import DatabaseError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.timesince import timeuntil

from files.locks import held_locks
from files.models import DavLock
from lib.keyset import in_batches
from people.models import User
from tokens import format as token_format
from tokens.audit import AuditEvent
from tokens.durations import DurationError, describe_duration, parse_duration
from tokens.models import PersonalAccessToken, TokenError, max_lifetime
from tokens.scopes import TokenScopes

logger = logging.getLogger(__name__)

#: Days before a token's hard end at which its owner is reminded.
REMINDER_DAYS = (7, 1)
#: What e-mails and commands name when ``PUBLIC_URL`` is unset: the address ``make run`` serves.
DEFAULT_INSTANCE_URL = "http://127.0.0.1:8000"


def instance_url() -> str:
    """Where the instance is reached, for messages that answer no request (e-mails, the command line)."""
    return (settings.PUBLIC_URL or DEFAULT_INSTANCE_URL).rstrip("/")


def _through(token: PersonalAccessToken | None) -> str:
    return f"through token {token.lookup_id}" if token is not None else ""


def token_create(
    *,
    owner: User,
    label: str | Callable[[str], str],
    expires_in: timedelta | None = None,
    refresh_window: timedelta | None = None,
    ends_at: datetime | None = None,
    scopes: TokenScopes | None = None,
    actor: User | None = None,
    via: str,
    ip: str | None = None,
    through: PersonalAccessToken | None = None,
) -> tuple[PersonalAccessToken, str]:
    """Issue a token, record it, and tell the owner when someone else issued it: (token, plain text)."""
    try:
        with transaction.atomic():
            token, raw = PersonalAccessToken.objects.issue(
                owner=owner,
                label=label,
                expires_in=expires_in,
                refresh_window=refresh_window,
                ends_at=ends_at,
                scopes=scopes,
                created_by=actor,
                created_via=via,
                parent=through,
            )
            AuditEvent.record(AuditEvent.CREATED, token=token, actor=actor, via=via, ip=ip, reason=_through(through))
    except TokenError as error:
        if error.policy:
            AuditEvent.record(AuditEvent.POLICY_REFUSED, owner=owner, actor=actor, via=via, ip=ip, reason=str(error))
        raise
    if token.issued_by_admin:
        _notify_owner_of_issue(token)
    transaction.on_commit(_prune_a_batch)
    return token, raw


def _prune_a_batch() -> None:
    """The token is made and shown by now: a failure to prune is logged, never allowed to fail its creation."""
    try:
        prune_after_retention(limit=PRUNE_BATCH)
    except DatabaseError:
        logger.warning("could not prune expired tokens", exc_info=True)


def token_delete(
    *, token: PersonalAccessToken, actor: User | None, via: str, reason: str = "", ip: str | None = None
) -> None:
    """Delete a token; it is refused from the very next request on. See ``tokens_delete``."""
    tokens_delete(tokens=[token], actor=actor, via=via, reason=reason, ip=ip)


def revoke(token: PersonalAccessToken, how: str, now: datetime) -> bool:
    """End a token that still works, keeping its record (listed among the inactive tokens, as revoked, until
    the retention removes it); whether it was still standing. One UPDATE, which a concurrent use cannot undo
    (``_record_use`` writes only to tokens not revoked)."""
    ended = PersonalAccessToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_how=how, expires_at=now
    )
    token.revoked_at, token.revoked_how, token.expires_at = now, how, now
    return bool(ended)


def tokens_delete(
    *, tokens: Iterable[PersonalAccessToken], actor: User | None, via: str, reason: str = "", ip: str | None = None
) -> int:
    """Delete tokens, each recorded; how many.

    A token that still works is revoked: refused from the next request on, and listed among the inactive
    tokens until ``TOKEN_RETENTION`` after its end, as GitLab keeps revoked tokens in sight. A token that no
    longer works (expired or revoked already) loses its record.

    An owner whose still working tokens someone else deleted (an administrator, or the command line) gets one
    e-mail listing them, once the deletion is committed: their scripts stop, and they should learn why. An
    expired token's record going (``token_prune``) changes nothing for them, so it says nothing."""
    count = 0
    told: dict[int, list[PersonalAccessToken]] = {}
    with transaction.atomic():
        now = timezone.now()
        for token in tokens:
            AuditEvent.record(AuditEvent.DELETED, token=token, actor=actor, via=via, ip=ip, reason=reason)
            if token.is_expired(now):
                token.delete()
            elif revoke(token, PersonalAccessToken.DELETED, now) and (actor is None or actor.pk != token.owner_id):
                told.setdefault(token.owner_id, []).append(token)
            count += 1
        for deleted in told.values():
            transaction.on_commit(partial(_notify_owner_of_deletion, deleted, actor=actor, via=via, reason=reason))
    return count


def _remaining(end: datetime | None, now: datetime) -> timedelta | None:
    return end - now if end is not None and end > now else None


class Rotation(NamedTuple):
    token: PersonalAccessToken
    raw: str
    #: What the instance's policy changed on the way, for the person rotating; empty when nothing did.
    notice: str


@transaction.atomic
def token_rotate(
    *,
    token: PersonalAccessToken,
    actor: User | None,
    via: str,
    ip: str | None = None,
    through: PersonalAccessToken | None = None,
) -> Rotation:
    """Replace ``token`` by a new secret with the same label, model, window and scopes; the old one stops at once.

    Rotated by a person (console, command line, session): the new token gets the lifetime the old one was created
    with (a Hard Limit's duration, an Auto Refresh token's absolute end), counted from now. Rotated through a token
    (itself, or another with a ``tokens:`` scope): it keeps the old end, window and cap, and may not exceed the
    token that asks. Either way within the instance's maximum: a maximum lowered since the token was made
    shortens the lifetime (and a longer refresh window) to it, and the notice says so: refusing would leave a
    token that can no longer be renewed, only replaced by hand.
    """
    if token.is_expired():
        raise TokenError("A token that has expired or was deleted cannot be rotated; create a new one.")
    now = timezone.now()
    longest = max_lifetime()
    most = describe_duration(settings.TOKEN_MAX_LIFETIME)
    window = token.refresh_window
    shortened = []
    expires_in: timedelta | None = None
    ends_at: datetime | None = None
    if through is not None:
        ends_at = token.hard_end
        if ends_at is not None and ends_at - now > longest:
            shortened.append(f"it ends {most} from now instead of at {ends_at:%Y-%m-%d %H:%M %Z}")
            ends_at = now + longest
    elif not token.is_auto_refresh or token.absolute_end is not None:
        expires_in = (token.hard_end or token.expires_at) - token.created_at
        if expires_in > longest:
            shortened.append(f"it lives {most} instead of {describe_duration(expires_in)}")
            expires_in = longest
    if window is not None and window > longest:
        shortened.append(f"its refresh window is {most} instead of {describe_duration(window)}")
        window = longest
    notice = ""
    if shortened:
        notice = (
            f"This instance now lets a token live at most {most}, so the new token was "
            f"shortened: {' and '.join(shortened)}."
        )
    new, raw = PersonalAccessToken.objects.issue(
        owner=token.owner,
        label=token.label,
        expires_in=expires_in,
        refresh_window=window,
        ends_at=ends_at,
        scopes=token.scope_set,
        created_by=actor,
        created_via=via,
        ignore_limit=True,
        parent=through,
        replaces=token,
    )
    replaces = "; ".join(
        part for part in (f"replaces {token.lookup_id} ({token.uuid})", _through(through), notice) if part
    )
    AuditEvent.record(AuditEvent.ROTATED, token=new, actor=actor, via=via, ip=ip, reason=replaces)
    revoke(token, PersonalAccessToken.ROTATED, timezone.now())
    if new.issued_by_admin:
        transaction.on_commit(lambda: _notify_owner_of_issue(new))
    return Rotation(new, raw, notice)


#: Most strings one leak report may hold.
MAX_LEAK_REPORT = 1000
LEAKED = "reported leaked"


def _is_the_secret(token: PersonalAccessToken, parts: token_format.ParsedToken) -> bool:
    stored = token_format.digest(parts, token.pepper_version)
    return stored is not None and hmac.compare_digest(stored[1], token.digest)


def tokens_revoke_leaked(*, raws: Iterable[str], ip: str | None) -> int:
    """Revoke every live token among ``raws`` (strings someone found exposed), each recorded as reported leaked
    with the reporter's address, and e-mail its owner; how many were deleted, which the reporter is never told.

    Only strings of the token format with a right checksum are looked up, all in one query: malformed and forged
    strings cost none. A token that is expired, unknown or named with a wrong secret changes nothing."""
    wanted: dict[str, list[token_format.ParsedToken]] = {}
    for raw in raws:
        parts = token_format.parse(raw)
        if parts is not None:
            wanted.setdefault(parts.lookup_id, []).append(parts)
    if not wanted:
        return 0
    now = timezone.now()
    candidates = PersonalAccessToken.objects.select_related("owner").filter(
        lookup_id__in=list(wanted), expires_at__gt=now, revoked_at__isnull=True
    )
    leaked = [token for token in candidates if any(_is_the_secret(token, parts) for parts in wanted[token.lookup_id])]
    if not leaked:
        return 0
    told: dict[int, list[PersonalAccessToken]] = {}
    with transaction.atomic():
        for token in leaked:
            AuditEvent.record(AuditEvent.LEAKED, token=token, via=PersonalAccessToken.VIA_REST, ip=ip, reason=LEAKED)
            revoke(token, PersonalAccessToken.LEAKED, now)
            told.setdefault(token.owner_id, []).append(token)
        for tokens in told.values():
            transaction.on_commit(partial(_notify_owner_of_leak, tokens, ip=ip))
    logger.warning("tokens reported leaked from %s and deleted: %s", ip, " ".join(t.lookup_id for t in leaked))
    return len(leaked)


def _send(owner: User, subject: str, body: str) -> bool:
    if not owner.email:
        return False
    # A subject is one header line: labels from before labels were kept to one line must not break it.
    send_mail(" ".join(subject.split()), body, settings.DEFAULT_FROM_EMAIL, [owner.email])
    return True


def _tell(owner: User, subject: str, body: str) -> None:
    """Tell an owner what someone else did to their tokens. The deed is done by then (a token made, shown once,
    or deleted), so a mail server that cannot be reached is logged, never allowed to fail it."""
    try:
        _send(owner, subject, body)
    except OSError:  # smtplib's errors and refused connections alike
        logger.warning("could not e-mail %s: %s", owner.login, subject, exc_info=True)


def _notify_owner_of_issue(token: PersonalAccessToken) -> None:
    creator = token.created_by.login if token.created_by else "an administrator"
    where = " from the command line" if token.created_via == PersonalAccessToken.VIA_COMMAND_LINE else ""
    _tell(
        token.owner,
        "A personal access token was created for you",
        f"Hello {token.owner.get_full_name()},\n\n"
        f'{creator} created the personal access token "{token.label}" (id {token.lookup_id}) for your account'
        f"{where}.\n"
        f"It expires {token.expires_at:%Y-%m-%d %H:%M %Z}.\n\n"
        f"You can see and delete your tokens at {instance_url()}/me/tokens/.\n",
    )


def _notify_owner_of_deletion(tokens: list[PersonalAccessToken], *, actor: User | None, via: str, reason: str) -> None:
    owner = tokens[0].owner
    deleter = actor.login if actor is not None else "an administrator"
    where = " from the command line" if via == PersonalAccessToken.VIA_COMMAND_LINE else ""
    named = [f'"{token.label}" (id {token.lookup_id})' for token in tokens]
    if len(tokens) == 1:
        subject = f'Your personal access token "{tokens[0].label}" was deleted'
        what = f"{deleter} deleted your personal access token {named[0]}{where}.\n"
    else:
        subject = f"{len(tokens)} of your personal access tokens were deleted"
        what = f"{deleter} deleted {len(tokens)} of your personal access tokens{where}:\n"
        what += "".join(f"  {line}\n" for line in named)
    because = f"Reason given: {reason}\n" if reason else ""
    _tell(
        owner,
        subject,
        f"Hello {owner.get_full_name()},\n\n{what}{because}\n"
        f"Scripts and clients that use {'it' if len(tokens) == 1 else 'them'} are refused from now on. "
        f"You can see your tokens and create new ones at {instance_url()}/me/tokens/.\n",
    )


def _notify_owner_of_leak(tokens: list[PersonalAccessToken], *, ip: str | None) -> None:
    owner = tokens[0].owner
    named = "".join(f'  "{token.label}" (id {token.lookup_id})\n' for token in tokens)
    if len(tokens) == 1:
        subject = f'Your personal access token "{tokens[0].label}" was reported leaked and deleted'
    else:
        subject = f"{len(tokens)} of your personal access tokens were reported leaked and deleted"
    reporter = f"someone at the address {ip}" if ip else "someone"
    _tell(
        owner,
        subject,
        f"Hello {owner.get_full_name()},\n\n"
        f"{reporter} reported personal access tokens of your account as leaked, found where others can read "
        f"them:\n{named}\n"
        "They were deleted at once: scripts and clients that use them are refused from now on. Find out where "
        f"they were exposed, then create new tokens at {settings.PUBLIC_URL.rstrip('/')}/me/tokens/.\n",
    )


def time_left(end: datetime, now: datetime) -> str:
    """How long until ``end``, in at most two units (``2 days, 23 hours``): what a reminder states."""
    # timeuntil separates number and unit with a no-break space, which reads oddly in a plain-text e-mail.
    return timeuntil(end, now, depth=2).replace("\xa0", " ")


def send_expiry_reminders(*, now: datetime | None = None) -> list[tuple[PersonalAccessToken, int]]:
    """E-mail owners 7 days and 1 day before a token's hard end, once per threshold: [(token, days)]. The
    e-mail states the time actually left, which may be less than the threshold.

    A threshold that the token's whole life (creation to hard end) does not exceed is skipped: its owner chose
    that short life knowingly, so a script's one-hour token is not followed by an e-mail on the next run.
    Auto Refresh tokens without an absolute end never get one: while they are in use they do not expire.
    """
    now = now or timezone.now()
    horizon = now + timedelta(days=max(REMINDER_DAYS))
    candidates = (
        PersonalAccessToken.objects.select_related("owner")
        .filter(owner__is_active=True, expires_at__gt=now)
        .exclude(expiration_model=PersonalAccessToken.AUTO_REFRESH, absolute_end__isnull=True)
    )
    sent = []
    for token in candidates:
        end = token.hard_end
        if end is None or end > horizon or end <= now:
            continue
        passed = [days for days in REMINDER_DAYS if end - now <= timedelta(days=days)]
        due = [
            days
            for days in passed
            if days not in token.reminders_sent and end - token.created_at > timedelta(days=days)
        ]
        if due:
            days = min(due)
            left = time_left(end, now)
            _send(
                token.owner,
                f'Your personal access token "{token.label}" expires in {left}',
                f"Hello {token.owner.get_full_name()},\n\n"
                f'your personal access token "{token.label}" (id {token.lookup_id}) stops working in {left}, on '
                f"{end:%Y-%m-%d %H:%M %Z}.\nCreate or rotate a token before then at "
                f"{instance_url()}/me/tokens/.\n",
            )
            sent.append((token, days))
        # Thresholds already passed count as sent too: a token first seen 1 day out gets one e-mail, not two.
        if set(passed) - set(token.reminders_sent):
            token.reminders_sent = sorted({*token.reminders_sent, *passed}, reverse=True)
            PersonalAccessToken.objects.filter(pk=token.pk).update(reminders_sent=token.reminders_sent)
    return sent


def tokens_prune(
    *,
    older_than: timedelta,
    dry_run: bool = False,
    now: datetime | None = None,
    limit: int | None = None,
    via: str = PersonalAccessToken.VIA_COMMAND_LINE,
) -> int:
    """Delete records of tokens expired for longer than ``older_than``, read in batches; how many (would be)
    deleted. ``limit``: at most so many, those expired longest ago. Their audit records stay, and each deletion
    adds one."""
    cutoff = (now or timezone.now()) - older_than
    stale = PersonalAccessToken.objects.select_related("owner").filter(expires_at__lt=cutoff)
    if limit is not None:
        # The expires_at index hands the oldest over first and stops at the limit.
        ids = list(stale.order_by("expires_at").values_list("pk", flat=True)[:limit])
        stale = stale.filter(pk__in=ids)
    if dry_run:
        return stale.count()
    return tokens_delete(tokens=in_batches(stale), actor=None, via=via, reason="pruned: expired")


#: Most expired tokens one token creation prunes on its way (``prune_after_retention``).
PRUNE_BATCH = 20


def retention() -> timedelta | None:
    """``TOKEN_RETENTION``: how long an expired token stays listed; None (and a warning) when it is no duration,
    so that a typo in the environment never costs a token."""
    try:
        return parse_duration(str(settings.TOKEN_RETENTION))
    except DurationError:
        logger.warning("TOKEN_RETENTION=%r is not a duration: expired tokens are not pruned", settings.TOKEN_RETENTION)
        return None


def prune_after_retention(*, limit: int | None = None, now: datetime | None = None) -> int:
    """Delete the tokens expired longer than ``TOKEN_RETENTION`` ago (at most ``limit``), as the system; how many.
    ``token_reminders`` (cron) prunes them all; each token creation prunes a bounded batch once committed, so an
    instance without cron still sheds them, and a request pays one indexed query with a LIMIT when none is due."""
    kept_for = retention()
    if kept_for is None:
        return 0
    return tokens_prune(older_than=kept_for, now=now, limit=limit, via="")


def locks_release(
    locks: QuerySet[DavLock], *, actor: User | None, via: str, ip: str | None = None
) -> list[held_locks.HeldLock]:
    """Release these locks, each recorded in the audit trail (who, how, whose lock on what): the files they
    held can be written again from the next request on. The locks released, as they were."""
    with transaction.atomic():
        chosen = list(locks.select_for_update())
        released = held_locks.describe(chosen)
        holders = {str(user.uuid): user for user in User.objects.filter(uuid__in=held_locks.holder_uuids(chosen))}
        DavLock.objects.filter(token__in=[lock.token for lock in chosen]).delete()
        principals = {lock.token: lock.principal for lock in chosen}
        for lock in released:
            AuditEvent.record(
                AuditEvent.LOCK_RELEASED,
                owner=holders.get(principals[lock.token]),
                actor=actor,
                via=via,
                ip=ip,
                reason=f"{lock.path} ({lock.scope}, depth {lock.depth})",
            )
    return released
