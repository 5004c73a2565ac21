"""``manage.py token_reminders``: e-mail owners 7 days and 1 day before a token's hard end. Run it from cron."""

from __future__ import annotations

from typing import Any

from tokens.management.base import TokenCommand
from tokens.services import send_expiry_reminders


class Command(TokenCommand):
    help = (
        "E-mail each owner 7 days and 1 day before a token's hard end (a Hard Limit, or an Auto Refresh "
        "token's absolute end), once per threshold. Safe to run as often as you like, e.g. hourly from cron."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        sent = send_expiry_reminders()
        for token, days in sent:
            self.stdout.write(f"Reminded {token.owner.login}: {token.lookup_id} {token.label!r} ends within {days}d")
        self.stdout.write(f"{len(sent)} reminder(s) sent.")
