"""``manage.py token_rotate ID``: a new secret with the same label, model and scopes; the old one stops now."""

from __future__ import annotations

import json
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
        new, raw = token_rotate(token=token, actor=None, via=PersonalAccessToken.VIA_COMMAND_LINE)
        if options["quiet"]:
            self.stdout.write(raw)
        elif options["json"]:
            self.stdout.write(json.dumps({"token": raw, "replaces": token.lookup_id, **describe(new)}, indent=2))
        else:
            self.stdout.write(human_description(new, raw))
