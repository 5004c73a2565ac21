"""``manage.py token_delete``: delete (revoke) tokens by id, by user, or by last use; ``--dry-run`` first."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from django.core.management.base import CommandParser
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from lib.keyset import in_batches
from tokens.management.base import TokenCommand, describe, parse_moment, select_tokens
from tokens.models import STATUSES, PersonalAccessToken, status_condition
from tokens.services import tokens_delete


class Command(TokenCommand):
    help = (
        "Delete Personal Access Tokens: they are refused from the next request on. Select by id (public id or "
        "uuid), by user, by last use (never-used tokens count from their creation) and/or by status; every "
        "selector narrows the set. --dry-run lists what would be deleted."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ids", nargs="*", metavar="ID", help="public id or uuid of a token")
        parser.add_argument("-u", "--user", metavar="LOGIN", help="tokens of this user")
        parser.add_argument(
            "--last-used-before", metavar="WHEN", help="not used since WHEN: a date, date-time or duration ago (90d)"
        )
        parser.add_argument("--status", choices=sorted(STATUSES), help="only tokens with this status")
        parser.add_argument("--reason", default="", help="recorded in the audit trail")
        parser.add_argument("--dry-run", action="store_true", help="list what would be deleted, delete nothing")
        parser.add_argument("--json", action="store_true", help="print the affected tokens as JSON")

    def handle(self, *args: Any, ids: list[str], user: str | None, **options: Any) -> None:
        before, status = options["last_used_before"], options["status"]
        if not ids and user is None and before is None and status is None:
            self.fail("name token ids, or select with --user, --last-used-before or --status")
        owner = self.user_named(user) if user is not None else None
        tokens = select_tokens(ids) if ids else PersonalAccessToken.objects.select_related("owner")
        if ids and not tokens.exists():
            self.fail(f"no token with id {', '.join(ids)}")
        if owner is not None:
            tokens = tokens.filter(owner=owner)
        if before is not None:
            cutoff = parse_moment(before)
            tokens = tokens.alias(used=Coalesce("last_used_at", "created_at")).filter(Q(used__lt=cutoff))
        if status is not None:
            tokens = tokens.filter(status_condition(status, timezone.now()))
        # Listed, then deleted, each a pass in batches: memory stays flat however many tokens are selected.
        listed = 0
        if options["json"]:
            self.stdout.write("[", ending="")
        verb = "Would delete" if options["dry_run"] else "Deleting"
        for token in in_batches(tokens):
            if options["json"]:
                item = textwrap.indent(json.dumps(describe(token), indent=2), "  ")
                self.stdout.write(("\n" if not listed else ",\n") + item, ending="")
            else:
                self.stdout.write(f"{verb} {token.lookup_id}  {token.owner.login}  {token.label}")
            listed += 1
        if options["json"]:
            self.stdout.write("\n]" if listed else "]")
        if options["dry_run"]:
            if not options["json"]:
                self.stdout.write(f"{listed} token(s) would be deleted (dry run: nothing changed).")
            return
        count = tokens_delete(
            tokens=in_batches(tokens), actor=None, via=PersonalAccessToken.VIA_COMMAND_LINE, reason=options["reason"]
        )
        if not options["json"]:
            self.stdout.write(f"{count} token(s) deleted.")
