"""``manage.py token_reminders``: e-mail owners 7 days and 1 day before a token's hard end, and prune the tokens
expired longer than ``TOKEN_RETENTION`` ago. Run it from cron."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone

from tokens.management.base import TokenCommand
from tokens.services import prune_after_retention, send_expiry_reminders, time_left


class Command(TokenCommand):
    help = (
        "E-mail each owner 7 days and 1 day before a token's hard end (a Hard Limit, or an Auto Refresh "
        "token's absolute end), once per threshold, stating the time left; a token whose whole life is no longer "
        "than a threshold is not reminded at it. Then delete the tokens that expired more than TOKEN_RETENTION "
        "ago (their audit records stay). Safe to run as often as you like, e.g. hourly from cron."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        sent = send_expiry_reminders(now=now)
        for token, _days in sent:
            end = token.hard_end or token.expires_at
            self.stdout.write(
                f"Reminded {token.owner.login}: {token.lookup_id} {token.label!r} ends in {time_left(end, now)}"
            )
        self.stdout.write(f"{len(sent)} reminder(s) sent.")
        pruned = prune_after_retention(now=now)
        self.stdout.write(f"{pruned} token(s) expired more than {settings.TOKEN_RETENTION} ago pruned.")
