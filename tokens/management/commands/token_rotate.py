"""``manage.py token_rotate ID``: a new secret with the same label, model and scopes; the old one stops now."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import CommandParser

from tokens.management.base import TokenCommand, describe, select_tokens
from tokens.management.commands.user_token import human_description
from tokens.models import PersonalAccessToken
from tokens.services import token_rotate


class Command(TokenCommand):
    help = (
        "Rotate a Personal Access Token: issue a new secret with the same label, expiration model, window and "
        "scopes, with its original lifetime counted from now. The old token is refused at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("id", metavar="ID", help="public id or uuid of the token")
        output = parser.add_mutually_exclusive_group()
        output.add_argument("-q", "--quiet", action="store_true", help="print only the new token")
        output.add_argument("--json", action="store_true", help="print the new token and its details as JSON")

    def handle(self, *args: Any, id: str, **options: Any) -> None:
        token = select_tokens([id]).first()
        if token is None:
            self.fail(f"no token with id {id!r}")
        new, raw, notice = token_rotate(token=token, actor=None, via=PersonalAccessToken.VIA_COMMAND_LINE)
        if options["quiet"]:
            self.stdout.write(raw)
            # stdout stays the token alone for scripts; the person running it still learns of the change.
            if notice:
                sys.stderr.write(f"token_rotate: note: {notice}\n")
        elif options["json"]:
            details = {"token": raw, "replaces": token.lookup_id, **describe(new), "notice": notice or None}
            self.stdout.write(json.dumps(details, indent=2))
        else:
            self.stdout.write(human_description(new, raw))
            if notice:
                self.stdout.write(f"\nNote: {notice}")
