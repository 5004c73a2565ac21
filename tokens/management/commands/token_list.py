"""``manage.py token_list``: the tokens of one user or of everyone, by status, as a table or JSON."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser
from django.utils.timesince import timesince, timeuntil

from tokens.management.base import TokenCommand, describe
from tokens.models import STATUSES, PersonalAccessToken, has_status


class Command(TokenCommand):
    help = "List Personal Access Tokens (never their secrets)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("-u", "--user", metavar="LOGIN", help="only this user's tokens")
        parser.add_argument("--status", choices=sorted(STATUSES), help="only tokens with this status")
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, user: str | None, status: str | None, **options: Any) -> None:
        tokens = PersonalAccessToken.objects.select_related("owner", "created_by").order_by(
            "owner__login", "-created_at"
        )
        if user is not None:
            tokens = tokens.filter(owner=self.user_named(user))
        rows = [token for token in tokens if status is None or has_status(token, status)]
        if options["json"]:
            self.stdout.write(json.dumps([describe(token) for token in rows], indent=2))
            return
        if not rows:
            self.stdout.write("No tokens.")
            return
        header = ("ID", "OWNER", "LABEL", "MODEL", "STATUS", "EXPIRES", "LAST USED", "SCOPES")
        table = [header]
        for token in rows:
            status_text = token.status + (f", {token.usage}" if token.usage else "")
            expires = (
                ("in " + timeuntil(token.expires_at))
                if not token.is_expired()
                else timesince(token.expires_at) + " ago"
            )
            used = (
                f"{timesince(token.last_used_at)} ago ({token.last_used_protocol})" if token.last_used_at else "never"
            )
            table.append(
                (
                    token.lookup_id,
                    token.owner.login,
                    token.label[:40],
                    token.get_expiration_model_display(),
                    status_text,
                    expires,
                    used,
                    str(len(token.scopes)) if token.scopes else "all",
                )
            )
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        for row in table:
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
