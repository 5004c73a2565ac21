"""``manage.py token_prune``: remove the records of tokens expired long ago."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser

from tokens.durations import parse_duration
from tokens.management.base import TokenCommand
from tokens.services import tokens_prune


class Command(TokenCommand):
    help = (
        "Delete the records of tokens that expired more than --older-than ago (default: TOKEN_RETENTION, 90d "
        "unless set). token_reminders and token creation already do this on their own; this does it now."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            default=None,
            metavar="DURATION",
            help="expired at least this long ago (default: TOKEN_RETENTION)",
        )
        parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")

    def handle(self, *args: Any, older_than: str | None, dry_run: bool, **options: Any) -> None:
        count = tokens_prune(older_than=parse_duration(older_than or str(settings.TOKEN_RETENTION)), dry_run=dry_run)
        if dry_run:
            self.stdout.write(f"{count} expired token(s) would be pruned (dry run: nothing changed).")
        else:
            self.stdout.write(f"{count} expired token(s) pruned.")
