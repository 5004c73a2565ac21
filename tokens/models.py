"""Personal Access Tokens: the model, and the manager that issues and authenticates them."""

from __future__ import annotations

import hmac
import unicodedata
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import connections, models, transaction
from django.db.models import ExpressionWrapper, F, Q, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Greatest
from django.db.models.lookups import GreaterThanOrEqual, LessThan
from django.utils import timezone

from files.scopes import Scope, ScopeError
from lib.keyset import COUNT_CAP
from people.models import User
from tokens import format as token_format
from tokens import lookup, throttle
from tokens import scopes as token_scopes
from tokens.audit import AuditEvent
from tokens.durations import describe_duration, parse_duration
from tokens.escalation import Terms, escalation, node_places
from tokens.scopes import TokenScopes
from tokens.throttle import AddressLockout

#: Why a rotation is refused when the token it replaces stopped working while the rotation was being made (another
#: rotation or a deletion, committed first).
ROTATED_MEANWHILE = "This token was rotated or deleted meanwhile (or has just expired): it cannot be rotated again."

#: A token is "Expiring soon" in the last quarter of its life, and at most this long before its hard end: a 7-day
#: token is not flagged the moment it is born, a year-long one a week ahead.
EXPIRING_SOON = timedelta(days=7)
#: A token unused this long is "Idle".
IDLE_AFTER = timedelta(days=30)


class TokenError(ValueError):
    """A token that cannot be issued as asked; the message is meant for the person asking.

    ``policy`` marks refusals by the instance policy (lifetime, tokens per user), which the audit trail keeps;
    ``escalation`` those of a token that would exceed the token that asked for it; ``field`` names what was
    asked wrong (``label``, ``owner``, ``duration``, ``absolute_end``, ``scopes``), where one thing was.
    """

    def __init__(self, message: str, *, policy: bool = False, escalation: bool = False, field: str = "") -> None:
        super().__init__(message)
        self.policy = policy
        self.escalation = escalation
        self.field = field


def max_lifetime() -> timedelta:
    return parse_duration(settings.TOKEN_MAX_LIFETIME)


# How a token's use is noted on its row: the slack that keeps the last-use write to about once a minute, and
# the latest distinct ways it was used (PersonalAccessToken._record_use writes what these say).

#: Last-used details are written at most this often per token.
LAST_USED_SLACK = timedelta(minutes=1)
#: How many distinct (IP, protocol, user agent) combinations a token remembers.
RECENT_USES = 20


def refresh_slack(window: timedelta) -> timedelta:
    """How far the stored expiry may lag behind ``now + window`` before a use writes it forward."""
    return min(LAST_USED_SLACK, window / 10)


def note_use(
    uses: list[dict[str, Any]], *, at: datetime, ip: str | None, protocol: str, agent: str
) -> list[dict[str, Any]]:
    """``uses`` with this way of use moved to the front (first seen kept), at most RECENT_USES long."""
    when = at.isoformat()
    first_seen = when
    rest = []
    for use in uses:
        if (use.get("ip"), use.get("protocol"), use.get("agent")) == (ip, protocol, agent):
            first_seen = use.get("first_seen", when)
        else:
            rest.append(use)
    entry = {"ip": ip, "protocol": protocol, "agent": agent, "first_seen": first_seen, "last_seen": when}
    return [entry, *rest][:RECENT_USES]


def expiring_from(hard_end: datetime | None, created_at: datetime) -> datetime | None:
    """When a token whose life runs from ``created_at`` to ``hard_end`` (None: no end) becomes "Expiring soon":
    at the start of the last quarter of its life, at most ``EXPIRING_SOON`` before the end. Stored on the row
    (``PersonalAccessToken.expiring_from``) so that lists filter on a column rather than compute per row."""
    if hard_end is None:
        return None
    return hard_end - min(EXPIRING_SOON, max(hard_end - created_at, timedelta(0)) / 4)


_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class PersonalAccessTokenQuerySet(models.QuerySet["PersonalAccessToken"]):
    """Token statuses as SQL conditions, so that lists filter, count and page in the database."""

    def with_status(self, status: str, *, now: datetime | None = None) -> PersonalAccessTokenQuerySet:
        """The tokens ``has_status(token, status, now)`` holds for (``STATUSES``' keys); KeyError for others."""
        return self.filter(status_condition(status, now or timezone.now()))

    def label_contains(self, term: str) -> PersonalAccessTokenQuerySet:
        """The tokens whose label contains ``term`` in any case: exactly ``label__icontains``, found through an
        index where one serves, so that a term matching few tokens (or none) costs the same at any number of
        tokens.

        PostgreSQL needs nothing here: migration 0009's trigram index is on the expression ``icontains`` compiles
        to. SQLite's FTS5 trigram table (same migration) is asked first how many labels may match, capped: a
        term matching many tokens is left to ``icontains`` because the inventory's page, ordered by an index,
        stops early then, whereas sorting every candidate the search table gives would not.
        """
        tokens = self.filter(label__icontains=term)
        if connections[self.db].vendor != "sqlite" or not _has_trigram(term):
            return tokens
        # tokens_label_search: migration 0009's FTS5 table of (label, token uuid). Its index serves LIKE only
        # without ESCAPE: ``%`` and ``_`` in the term stay wildcards there, so it gives more candidates than match,
        # never fewer (it also folds non-ASCII case, which SQLite's LIKE does not); ``icontains`` on those
        # candidates then keeps exactly the right ones.
        pattern = f"%{term}%"
        with connections[self.db].cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM (SELECT 1 FROM tokens_label_search WHERE label LIKE %s LIMIT %s)",
                [pattern, FEW_MATCHES + 1],
            )
            (candidates,) = cursor.fetchone()
        if candidates > FEW_MATCHES:
            return tokens
        candidates_sql = "SELECT token FROM tokens_label_search WHERE label LIKE %s"
        return tokens.filter(uuid__in=RawSQL(candidates_sql, [pattern]))  # noqa: S611 (the term is a parameter)


#: Up to this many candidates, the label search filters through the index; beyond, the page's order does. The
#: lists' capped count: with fewer matches than it, that count would read every token without the index.
FEW_MATCHES = COUNT_CAP


def _has_trigram(term: str) -> bool:
    """Whether ``term`` has three characters in a row that are not LIKE wildcards: the trigram index needs one,
    and reads every row without."""
    return any(len(run) >= 3 for run in term.replace("_", "%").split("%"))


def _time_left_within_tenth_of_window(now: datetime) -> Q:
    """An Auto Refresh window in its last tenth: ten times the time left at most the window, as ``status_at``.
    Only for rows with a window (the expression is NULL without one)."""
    left = ExpressionWrapper(
        (F("expires_at") - Value(now, output_field=models.DateTimeField())) * 10, output_field=models.DurationField()
    )
    return Q(refresh_window__isnull=False) & Q(GreaterThanOrEqual(F("refresh_window"), left))


def status_condition(status: str, now: datetime) -> Q:
    """``has_status`` as a condition on the token table, written without a NULL comparison anywhere so that its
    parts can be combined and negated safely."""
    STATUSES[status]  # an unknown status is a KeyError here, as in has_status
    standing = Q(revoked_at__isnull=True)
    live = standing & Q(expires_at__gt=now)
    expiring = Q(expiring_from__isnull=False, expiring_from__lte=now) | _time_left_within_tenth_of_window(now)
    if status == "revoked":
        return ~standing
    if status == "expired":
        return standing & ~Q(expires_at__gt=now)
    if status == "expiring":
        return live & expiring
    if status == "active":
        far_from_end = Q(expiring_from__isnull=True) | Q(expiring_from__gt=now)
        window_not_ending = Q(refresh_window__isnull=True) | Q(
            LessThan(
                F("refresh_window"),
                ExpressionWrapper(
                    (F("expires_at") - Value(now, output_field=models.DateTimeField())) * 10,
                    output_field=models.DurationField(),
                ),
            )
        )
        return live & far_from_end & window_not_ending
    if status == "never-used":
        return Q(last_used_at__isnull=True)
    # idle
    return Q(last_used_at__isnull=False, last_used_at__lte=now - IDLE_AFTER)


_ManagerBase = models.Manager.from_queryset(PersonalAccessTokenQuerySet)


class PersonalAccessTokenManager(_ManagerBase["PersonalAccessToken"]):
    def issue(
        self,
        *,
        owner: User,
        label: str | Callable[[str], str],
        expires_in: timedelta | None = None,
        refresh_window: timedelta | None = None,
        ends_at: datetime | None = None,
        scopes: TokenScopes | None = None,
        created_by: User | None = None,
        created_via: str = "",
        ignore_limit: bool = False,
        parent: PersonalAccessToken | None = None,
        replaces: PersonalAccessToken | None = None,
    ) -> tuple[PersonalAccessToken, str]:
        """Create a token and return it with its plain text, which exists nowhere else afterwards.

        Hard Limit (no ``refresh_window``): it ends ``expires_in`` from now, or at ``ends_at``. Auto Refresh
        (``refresh_window``): capped at ``expires_in`` from now or at ``ends_at``, else at the instance's maximum
        lifetime. Scopes must pass ``tokens.scopes.validate``. ``parent``: the token through which it is made,
        which it may not exceed (``tokens.escalation``); an Auto Refresh child asked without a cap gets the
        parent's end as its cap. ``ignore_limit`` skips the tokens-per-user limit (a rotation replaces a token,
        it adds none). Two live tokens of one owner never share a label (whatever its case): a person must be
        able to tell which one a list row, a confirmation or an e-mail means. ``replaces`` is the token a
        rotation replaces, whose label the new one takes over. Both rules hold for concurrent requests too: the
        checks and the insert run in the caller's transaction (else in one of its own) after the owner is locked.
        """
        raw, parts = token_format.generate()
        # A function of the token's public id, for a default label that names the token (the command line's).
        label = (label(parts.lookup_id) if callable(label) else label).strip()
        if not label:
            raise TokenError("A token needs a label.", field="label")
        if len(label) > 200:
            raise TokenError("A label must be at most 200 characters long.", field="label")
        if any(unicodedata.category(char) in {"Cc", "Zl", "Zp"} or char in _BIDI_CONTROLS for char in label):
            # A label goes into e-mail subjects, terminals (token_list) and logs: no line breaks, no escape
            # sequences, no reordering of what follows it.
            raise TokenError("A label must be a single line without control characters.", field="label")
        if not owner.is_active:
            raise TokenError(f"User {owner.login!r} is inactive.", field="owner")
        if expires_in is None and refresh_window is None and ends_at is None:
            raise TokenError("A token needs a duration (Hard Limit) or a refresh window (Auto Refresh).")
        if expires_in is not None and ends_at is not None:
            raise TokenError("Give a token a duration or an end, not both.", field="absolute_end")
        now = timezone.now()
        longest = max_lifetime()
        for given in (expires_in, refresh_window):
            if given is not None and given <= timedelta(0):
                raise TokenError("A duration must be longer than zero.", field="duration")
            if given is not None and given > longest:
                raise TokenError(
                    f"A token may live at most {describe_duration(settings.TOKEN_MAX_LIFETIME)} on this instance.",
                    policy=True,
                    field="duration",
                )
        if ends_at is not None and ends_at <= now:
            raise TokenError("The end must be in the future.", field="absolute_end")
        if ends_at is not None and ends_at - now > longest:
            raise TokenError(
                f"A token may live at most {describe_duration(settings.TOKEN_MAX_LIFETIME)} on this instance.",
                policy=True,
                field="absolute_end",
            )
        # Issuance checks, then inserts (a unique index cannot say "live": that depends on the time), so two
        # issuances for one owner must not interleave, or both pass the checks: each runs in a transaction (its
        # caller's, else its own) that first locks the owner (``_serialize_issuance_for``).
        with nullcontext() if transaction.get_connection(self.db).in_atomic_block else transaction.atomic(self.db):
            self._serialize_issuance_for(owner)
            limit = settings.TOKEN_MAX_PER_USER
            # Revoking brings the expiry down to that moment, but a token issued as of an earlier moment (a test, a
            # seeded history) must not count one revoked later.
            live = self.filter(owner=owner, expires_at__gt=now, revoked_at__isnull=True)
            if limit and not ignore_limit and live.count() >= limit:
                raise TokenError(
                    f"{owner.login} already has {limit} live token{'s' if limit != 1 else ''}, "
                    "the most this instance allows. Delete one first.",
                    policy=True,
                )
            if replaces is not None:
                # Read again now that the owner is locked: a rotation that committed meanwhile revoked it.
                if not live.filter(pk=replaces.pk).exists():
                    raise TokenError(ROTATED_MEANWHILE)
                live = live.exclude(pk=replaces.pk)
            if live.filter(label__iexact=label).exists():
                raise TokenError(
                    f"{owner.login} already has a live token labelled “{label}”: choose another label.", field="label"
                )
            scopes = scopes or TokenScopes()
            by_admin = created_via == PersonalAccessToken.VIA_COMMAND_LINE or bool(created_by and created_by.is_admin)
            try:
                token_scopes.validate(owner, scopes, by_admin=by_admin)
            except ScopeError as error:
                raise TokenError(str(error), field="scopes") from None

            end = ends_at if ends_at is not None else now + expires_in if expires_in is not None else None
            absolute_end = None
            if refresh_window is not None:
                model = PersonalAccessToken.AUTO_REFRESH
                # The instance's maximum lifetime caps a sliding expiry too; so does the end of the token that asks.
                absolute_end = end if end is not None else now + longest
                if end is None and parent is not None:
                    absolute_end = min(absolute_end, Terms.of(parent).latest)
                expires_at = min(now + refresh_window, absolute_end)
            else:
                assert end is not None
                model = PersonalAccessToken.HARD_LIMIT
                expires_at = end
            if parent is not None:
                asked = Terms(
                    scopes=scopes,
                    end=absolute_end if refresh_window else expires_at,
                    window=refresh_window,
                    expires_at=expires_at,
                )
                reason = escalation(Terms.of(parent), asked, node_places(parent.scope_set, scopes))
                if reason is not None:
                    raise TokenError(
                        f"Refused: the token {parent.lookup_id} that asks cannot make a stronger one: {reason}.",
                        escalation=True,
                    )
            version, hexdigest = token_format.digest(parts)  # type: ignore[misc]
            token = self.create(
                owner=owner,
                label=label,
                lookup_id=parts.lookup_id,
                digest=hexdigest,
                pepper_version=version,
                expiration_model=model,
                expires_at=expires_at,
                refresh_window=refresh_window,
                absolute_end=absolute_end,
                expiring_from=expiring_from(absolute_end if refresh_window is not None else expires_at, now),
                scopes=scopes.strings,
                created_at=now,
                created_by=created_by,
                created_via=created_via,
            )
            return token, raw

    def _serialize_issuance_for(self, owner: User) -> None:
        """Lock ``owner``'s row until the transaction ends: a concurrent issuance for the same owner waits here,
        then sees this one's token in its checks. On SQLite, which has no row locks, this is a plain read: its
        transactions (``transaction_mode`` IMMEDIATE) already take the database's write lock at BEGIN.

        NO KEY UPDATE is the weakest row lock that two issuances conflict on. The KEY SHARE locks that inserts
        referring to the owner take (a token, an audit record, a multipart upload) do not conflict with it: those
        writes neither wait for an issuance nor hold one up; an update or deletion of the user row does."""
        User.objects.select_for_update(no_key=True).filter(pk=owner.pk).exists()

    def authenticate(
        self,
        raw: str,
        *,
        ip: str | None = None,
        protocol: str = "",
        user_agent: str = "",
        login: str | None = None,
    ) -> PersonalAccessToken | None:
        """The live token that ``raw`` is, or None. Costs no query for a malformed string, one for a valid
        token, plus a throttled write (expiry, last use, re-hash: a read and an UPDATE) at most about once a
        minute; no cache round trip.

        With ``login`` (basic auth) the token must be that user's. A token with ``protocol:`` or ``ip:`` scopes
        authenticates only on those protocols and from those addresses (``ip``, the client's address as
        ``lib.client_address`` resolves it). A well-formed string that is refused is counted in the audit trail
        under its public id with the reason, and never counts as a use; the caller cannot tell the reasons
        apart.

        Raises :class:`tokens.throttle.Throttled` when ``ip`` is locked out (failed too often in this window):
        the lookup reads that with the token, and the secret is then not compared; a refusal asks the cache
        before it is audited, so that an address locked out leaves no record per attempt."""
        parts = token_format.parse(raw)
        if parts is None:
            return None
        found = lookup.find_for(self.model, parts.lookup_id, address=ip, alias=self.db)
        locked_out = throttle.locked_out(found.address_locked_until)
        if locked_out is not None:
            raise locked_out
        named = token = found.token
        stored = token_format.digest(parts, token.pepper_version) if token is not None else None
        refusal = ""
        now = timezone.now()
        if token is None or stored is None or not hmac.compare_digest(stored[1], token.digest):
            refusal, token = "unknown token or wrong secret", None
        elif not token.owner.is_active:
            refusal = "owner inactive"
        elif login is not None and token.owner.login.casefold() != login.casefold():
            refusal = "sent with another login"
        elif token.revoked_at is not None:
            refusal = "revoked"
        elif token.expires_at <= now:
            refusal = "expired"
        elif not token.scope_set.allows_protocol(protocol):
            refusal = f"protocol {protocol or 'unknown'} outside its scopes"
        elif not token.scope_set.allows_address(ip):
            refusal = f"address {ip or 'unknown'} outside its scopes"
        if refusal:
            throttle.check(ip=ip)
            # The record names the token its public id names, even with a wrong secret: whose token is being tried.
            AuditEvent.record_refusal(token_id=parts.lookup_id, token=named, ip=ip, protocol=protocol, reason=refusal)
            return None
        assert token is not None
        token._record_use(parts, now=now, ip=ip, protocol=protocol, user_agent=user_agent)
        return token


class PersonalAccessToken(models.Model):
    HARD_LIMIT = "hard"
    AUTO_REFRESH = "auto"
    MODELS: ClassVar[list[tuple[str, str]]] = [(HARD_LIMIT, "Hard Limit"), (AUTO_REFRESH, "Auto Refresh")]

    DELETED = "deleted"
    ROTATED = "rotated"
    LEAKED = "leaked"
    ENDINGS: ClassVar[list[tuple[str, str]]] = [(DELETED, "deleted"), (ROTATED, "rotated"), (LEAKED, "reported leaked")]

    VIA_CONSOLE = "console"
    VIA_COMMAND_LINE = "cli"
    VIA_REST = "rest"
    VIA: ClassVar[list[tuple[str, str]]] = [
        (VIA_CONSOLE, "console"),
        (VIA_COMMAND_LINE, "command line"),
        (VIA_REST, "REST API"),
    ]

    uuid = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tokens")
    label = models.CharField(max_length=200)
    #: Public part of the token string; finds the row.
    lookup_id = models.CharField(max_length=token_format.LOOKUP_LENGTH, unique=True)
    #: HMAC-SHA256 of the token under the pepper ``pepper_version``; the secret itself is never stored.
    digest = models.CharField(max_length=64)
    pepper_version = models.PositiveIntegerField()
    expiration_model = models.CharField(max_length=4, choices=MODELS)
    expires_at = models.DateTimeField(db_index=True)
    refresh_window = models.DurationField(null=True, blank=True)
    absolute_end = models.DateTimeField(null=True, blank=True)
    #: Canonical scope strings of every kind (``tokens.scopes``); no node scope means the owner's full reach.
    scopes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_via = models.CharField(max_length=8, choices=VIA, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    last_used_protocol = models.CharField(max_length=16, blank=True)
    last_used_agent = models.CharField(max_length=255, blank=True)
    #: The latest distinct ways of use: [{ip, protocol, agent, first_seen, last_seen}], newest first. Kept
    #: on the row so that the throttled last-use write stays one UPDATE.
    recent_uses = models.JSONField(default=list, blank=True)
    #: Expiry reminders already sent, as days before the end (e.g. [7, 1]).
    reminders_sent = models.JSONField(default=list, blank=True)
    #: When it becomes "Expiring soon" (``expiring_from``), kept with its hard end: only ``issue`` sets a hard
    #: end, and ``save`` keeps this in step for rows written otherwise.
    expiring_from = models.DateTimeField(null=True, blank=True)
    #: A deleted token that still had life left stays listed, revoked, until the retention removes it (as
    #: GitLab lists revoked tokens among the inactive ones); ``revoked_how`` says what ended it. Revoking also
    #: brings ``expires_at`` down to that moment, so every "still works" filter (``expires_at > now``) leaves it
    #: out and the retention counts from then.
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_how = models.CharField(max_length=8, choices=ENDINGS, blank=True)

    objects: ClassVar[PersonalAccessTokenManager] = PersonalAccessTokenManager()

    class Meta:
        ordering = ["-created_at", "-uuid"]
        verbose_name = "personal access token"
        # Lists page by keyset on (created_at, uuid), newest first, for everyone or for one owner; the idle and
        # never-used filters read last_used_at, the others expires_at (indexed on the field).
        indexes = [
            models.Index(fields=["created_at", "uuid"], name="tokens_pat_created"),
            models.Index(fields=["owner", "created_at", "uuid"], name="tokens_pat_owner_created"),
            models.Index(fields=["last_used_at"], name="tokens_pat_last_used"),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.lookup_id})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.expiring_from = expiring_from(self.hard_end, self.created_at)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "expiring_from"}
        super().save(*args, **kwargs)

    @property
    def is_auto_refresh(self) -> bool:
        return self.expiration_model == self.AUTO_REFRESH

    @property
    def scope_set(self) -> TokenScopes:
        """Every kind of its scopes, parsed (``tokens.scopes``)."""
        return token_scopes.stored_scopes(self.scopes)

    @property
    def parsed_scopes(self) -> list[Scope]:
        """Its node scopes, as the rights function takes them."""
        return list(self.scope_set.nodes)

    def is_expired(self, now: datetime | None = None) -> bool:
        """No longer authenticates: revoked, or past its expiry."""
        return self.revoked_at is not None or self.expires_at <= (now or timezone.now())

    @property
    def status(self) -> str:
        return self.status_at(timezone.now())

    def status_at(self, now: datetime) -> str:
        """Revoked, Expired, Expiring soon (the last quarter of its life, at most 7 days before its hard end, or
        the last tenth of an idle refresh window), or Active.

        ``PersonalAccessTokenQuerySet.with_status`` says the same in SQL; a property test holds them together."""
        if self.revoked_at is not None:
            return "Revoked"
        if self.expires_at <= now:
            return "Expired"
        if self.expiring_from is not None and self.expiring_from <= now:
            return "Expiring soon"
        # Ten times the time left against the whole window: exact in integers, as the database compares it
        # (window / 10 would round to a microsecond).
        if self.refresh_window is not None and (self.expires_at - now) * 10 <= self.refresh_window:
            return "Expiring soon"
        return "Active"

    @property
    def usage(self) -> str:
        return self.usage_at(timezone.now())

    def usage_at(self, now: datetime) -> str:
        """ "Never used", "Idle" (unused for 30 days) or "" for a token in use."""
        if self.last_used_at is None:
            return "Never used"
        if now - self.last_used_at >= IDLE_AFTER:
            return "Idle"
        return ""

    @property
    def hard_end(self) -> datetime | None:
        """The end no use can push back: a Hard Limit's expiry, an Auto Refresh token's absolute end."""
        return self.absolute_end if self.is_auto_refresh else self.expires_at

    @property
    def issued_by_admin(self) -> bool:
        """Created by someone other than its owner: an administrator in the console, or an operator on the
        command line, which acts for the owner with an administrator's power."""
        if self.created_via == self.VIA_COMMAND_LINE:
            return True
        return self.created_by_id is not None and self.created_by_id != self.owner_id

    def _record_use(
        self, parts: token_format.ParsedToken, *, now: datetime, ip: str | None, protocol: str, user_agent: str
    ) -> None:
        """Slide an Auto Refresh expiry, note the last use and re-hash under the newest pepper — in one
        UPDATE, and only when something has drifted by more than its slack (the expiry: a minute or a tenth of
        the window, whichever is smaller; the last use: a minute). Noting a use reads the recent uses first: the
        lookup leaves them out (``tokens.lookup``)."""
        updates: dict[str, Any] = {}
        # Only forward, to a larger version: during a rolling rotation an instance that still hashes with the old
        # key (the new one listed second) leaves alone the rows that instances already on the new key moved.
        if self.pepper_version < token_format.current_pepper_version():
            version, hexdigest = token_format.digest(parts)  # type: ignore[misc]
            updates.update(pepper_version=version, digest=hexdigest)
        if self.is_auto_refresh and self.refresh_window is not None:
            target = now + self.refresh_window
            if self.absolute_end is not None:
                target = min(target, self.absolute_end)
            if target - self.expires_at > refresh_slack(self.refresh_window):
                # Greatest: concurrent uses never move the expiry backwards.
                updates["expires_at"] = Greatest(
                    models.F("expires_at"), models.Value(target, output_field=models.DateTimeField())
                )
                self.expires_at = target
        if updates or self.last_used_at is None or now - self.last_used_at > LAST_USED_SLACK:
            agent = user_agent[:255]
            self.last_used_at, self.last_used_ip, self.last_used_protocol = now, ip, protocol
            self.last_used_agent = agent
            self.recent_uses = note_use(self.recent_uses, at=now, ip=ip, protocol=protocol, agent=agent)
            updates.update(
                last_used_at=now,
                last_used_ip=ip,
                last_used_protocol=protocol,
                last_used_agent=agent,
                recent_uses=self.recent_uses,
            )
        if updates:
            # Never onto a token revoked since it was read: a use that raced its revocation must not push a
            # revoked token's expiry forward again.
            type(self).objects.filter(pk=self.pk, revoked_at__isnull=True).update(**updates)
            if "digest" in updates:
                self.pepper_version, self.digest = updates["pepper_version"], updates["digest"]


__all__ = ["AddressLockout", "AuditEvent", "PersonalAccessToken", "PersonalAccessTokenManager", "TokenError"]


#: The statuses a list can be narrowed to, by the names the command line and the console's filters use.
STATUSES = {
    "active": "Active",
    "expiring": "Expiring soon",
    "expired": "Expired",
    "revoked": "Revoked",
    "never-used": "Never used",
    "idle": "Idle",
}


def has_status(token: PersonalAccessToken, status: str, now: datetime | None = None) -> bool:
    wanted = STATUSES[status]
    now = now or timezone.now()
    return wanted in (token.status_at(now), token.usage_at(now))
