"""``manage.py token_audit``: the token audit trail, filtered, as a table or JSON."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser
from django.db.models import QuerySet

from tokens.audit import AuditEvent
from tokens.management.base import TokenCommand, count, parse_moment

#: The actors that are no user (AuditEvent.record).
OTHER_ACTORS = ("command line", "system")


class Command(TokenCommand):
    help = "Show the token audit trail: creations, deletions, rotations, refused uses and policy refusals."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--actor", metavar="LOGIN", help='who acted (a login, or "command line")')
        parser.add_argument("--owner", metavar="LOGIN", help="whose token")
        parser.add_argument("--event", choices=[event for event, _label in AuditEvent.EVENTS])
        parser.add_argument("--since", metavar="WHEN", help="a date, date-time or duration ago (7d)")
        parser.add_argument("--until", metavar="WHEN", help="a date, date-time or duration ago")
        parser.add_argument("--limit", type=count, default=200, help="at most this many records (newest first)")
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        events = AuditEvent.objects.all()
        if options["actor"]:
            actor = options["actor"].strip()
            if actor.lower() not in OTHER_ACTORS:
                self.recorded_login(actor, AuditEvent.objects.filter(actor_label__iexact=actor))
            events = events.filter(actor_label__iexact=actor)
        if options["owner"]:
            owner = options["owner"].strip()
            self.recorded_login(owner, AuditEvent.objects.filter(owner_login__iexact=owner))
            events = events.filter(owner_login__iexact=owner)
        if options["event"]:
            events = events.filter(event=options["event"])
        if options["since"]:
            events = events.filter(at__gte=parse_moment(options["since"]))
        if options["until"]:
            events = events.filter(at__lte=parse_moment(options["until"]))
        rows = list(events[: options["limit"]])
        if options["json"]:
            self.stdout.write(json.dumps([event.as_dict() for event in rows], indent=2))
            return
        for event in rows:
            count = f" x{event.count}" if event.count > 1 else ""
            if event.last_seen is not None and event.last_seen != event.at:
                count += f" (last {event.last_seen:%H:%M:%S})"
            self.stdout.write(
                f"{event.at:%Y-%m-%d %H:%M:%S}  {event.get_event_display()}{count}  token {event.token_id or '-'} "
                f"{event.token_label!r} of {event.owner_login or '-'} by {event.actor_label or '-'}"
                f"{f' via {event.via}' if event.via else ''}{f' from {event.ip}' if event.ip else ''}"
                f"{f': {event.reason}' if event.reason else ''}"
            )
        if not rows:
            self.stdout.write("No audit records.")

    def recorded_login(self, login: str, records: QuerySet[AuditEvent]) -> None:
        """A login that names nobody is an error, as in the other commands; the trail outlives its users, so the
        login of someone deleted since, still in ``records``, names someone too."""
        if not records.exists():
            self.user_named(login)
