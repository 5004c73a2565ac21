"""The audit trail of tokens (and of the WebDAV locks that people release for others).

An audit record names a token by its uuid, public lookup id, label and owner — never by its secret — copied onto
the record, so it still names the token once the token is deleted. Refused uses are aggregated: one record per
(token id, client IP, reason, minute) with a count and the exact first (``at``) and last (``last_seen``) refusal,
so a flood of bad attempts stays small and no refusal appears earlier than it happened.
A released WebDAV lock is recorded with no token: its holder is the owner, the path and kind of lock the reason.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Coalesce, Greatest, Lower
from django.utils import timezone

if TYPE_CHECKING:
    from people.models import User
    from tokens.models import PersonalAccessToken


class AuditEvent(models.Model):
    CREATED = "created"
    DELETED = "deleted"
    ROTATED = "rotated"
    REFUSED = "refused"
    POLICY_REFUSED = "policy_refused"
    LOCK_RELEASED = "lock_released"
    LEAKED = "leaked"
    EVENTS: ClassVar[list[tuple[str, str]]] = [
        (CREATED, "token created"),
        (DELETED, "token deleted"),
        (ROTATED, "token rotated"),
        (REFUSED, "use refused"),
        (POLICY_REFUSED, "refused by policy"),
        (LOCK_RELEASED, "WebDAV lock released"),
        (LEAKED, "reported leaked, deleted"),
    ]

    at = models.DateTimeField(default=timezone.now)
    event = models.CharField(max_length=16, choices=EVENTS)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: Who acted, as shown: a login, "command line" or "system"; kept when the user is deleted.
    actor_label = models.CharField(max_length=150, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    owner_login = models.CharField(max_length=150, blank=True)
    token_uuid = models.UUIDField(null=True, blank=True)
    #: The token's public lookup id (never its secret).
    token_id = models.CharField(max_length=16, blank=True, db_index=True)
    token_label = models.CharField(max_length=200, blank=True)
    via = models.CharField(max_length=16, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    reason = models.TextField(blank=True)
    #: Refused uses within the same minute from the same IP are counted on one record.
    count = models.PositiveIntegerField(default=1)
    #: A refused use's record: when the last refusal it counts happened (``at`` is the first). Empty on records
    #: written before refusals kept it, whose ``at`` is the start of their minute.
    last_seen = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        # The trail pages by keyset on (at, id), newest first; its filters match an event, or a login in any case
        # (Lower, as ``login_key`` writes it), each with the order behind it.
        indexes = [
            models.Index(fields=["at", "id"], name="tokens_audit_at"),
            models.Index(fields=["event", "at", "id"], name="tokens_audit_event_at"),
            models.Index(Lower("owner_login"), "at", "id", name="tokens_audit_owner_at"),
            models.Index(Lower("actor_label"), "at", "id", name="tokens_audit_actor_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.get_event_display()} {self.token_id}"

    @classmethod
    def record(
        cls,
        event: str,
        *,
        token: PersonalAccessToken | None = None,
        owner: User | None = None,
        actor: User | None = None,
        via: str = "",
        ip: str | None = None,
        reason: str = "",
    ) -> AuditEvent:
        if token is not None:
            owner = token.owner
        actor_label = actor.login if actor is not None else ("command line" if via == "cli" else "system")
        return cls.objects.create(
            event=event,
            actor=actor,
            actor_label=actor_label,
            owner=owner,
            owner_login=owner.login if owner is not None else "",
            token_uuid=token.uuid if token is not None else None,
            token_id=token.lookup_id if token is not None else "",
            token_label=token.label if token is not None else "",
            via=via,
            ip=ip,
            reason=reason,
        )

    @classmethod
    def record_refusal(
        cls, *, token_id: str, token: PersonalAccessToken | None, ip: str | None, protocol: str, reason: str
    ) -> None:
        """Count a refused use on this minute's record for (token id, IP, reason), creating it if needed.

        ``token`` is the row the public id names, if it still exists; without it the record takes the names
        from the latest record of the same public id, so a deleted token's refusals still say whose it was."""
        now = timezone.now()
        minute = now.replace(second=0, microsecond=0)
        same = cls.objects.filter(
            event=cls.REFUSED,
            token_id=token_id,
            ip=ip,
            reason=reason,
            at__gte=minute,
            at__lt=minute + timedelta(minutes=1),
        )
        # Greatest: concurrent refusals never move the last one back.
        if same.update(count=F("count") + 1, last_seen=Greatest(Coalesce("last_seen", "at"), Value(now))):
            return
        names: dict[str, Any] = {}
        if token is not None:
            names = {
                "owner": token.owner,
                "owner_login": token.owner.login,
                "token_uuid": token.uuid,
                "token_label": token.label,
            }
        else:
            names = (
                cls.objects.filter(token_id=token_id)
                .exclude(token_label="")
                .order_by("-at", "-id")
                .values("owner_id", "owner_login", "token_uuid", "token_label")
                .first()
            ) or {}
        cls.objects.create(
            event=cls.REFUSED,
            at=now,
            last_seen=now,
            actor_label="",
            token_id=token_id,
            via=protocol,
            ip=ip,
            reason=reason,
            **names,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "event": self.event,
            "actor": self.actor_label,
            "owner": self.owner_login,
            "token_uuid": str(self.token_uuid) if self.token_uuid else None,
            "token_id": self.token_id,
            "token_label": self.token_label,
            "via": self.via,
            "ip": self.ip,
            "reason": self.reason,
            "count": self.count,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
        }
