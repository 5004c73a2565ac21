"""What the token commands share: errors on one stderr line, argument parsing of ids, logins, counts and dates."""

from __future__ import annotations

import argparse
import uuid
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from lib.commands import OneLineCommand
from people.models import User
from tokens.durations import format_duration, in_utc, parse_duration
from tokens.models import PersonalAccessToken


class TokenCommand(OneLineCommand):
    """A token command: one-line errors, and the user a login names."""

    def user_named(self, login: str) -> User:
        """The user ``-u``/``--user``/``--owner`` names: a login that names nobody is an error, never "0 tokens",
        so a misspelled login cannot look like success."""
        user = User.objects.filter(login__iexact=login.strip()).first()
        if user is None:
            self.fail(f"no user with login {login!r}")
        return user


#: The most rows a command shows at once; the databases refuse a LIMIT past 2**63.
MAX_COUNT = 1_000_000


def count(text: str) -> int:
    """An argparse type: how many rows to show, 0 to MAX_COUNT."""
    value = text.strip()
    if not (value.isascii() and value.isdigit() and len(value) <= len(str(MAX_COUNT))) or int(value) > MAX_COUNT:
        raise argparse.ArgumentTypeError(f"invalid count {text!r}: give a number from 0 to {MAX_COUNT}")
    return int(value)


def select_tokens(ids: list[str]) -> QuerySet[PersonalAccessToken]:
    """Tokens named by public id (``Ffsw1lD7ztTO``) or uuid."""
    condition = Q(pk__in=[])
    for value in ids:
        try:
            condition |= Q(pk=uuid.UUID(value))
        except ValueError:
            condition |= Q(lookup_id=value)
    return PersonalAccessToken.objects.select_related("owner").filter(condition)


def parse_moment(text: str) -> datetime:
    """A point in time: an ISO date or date-time, or a duration meaning that long ago (``90d``). A moment beyond
    what the database compares with (year 1 east of UTC, the end of 9999 west of it) is its first or last one."""
    try:
        # Both raise for a well-formed date that does not exist (2026-02-30): a typo like any other.
        moment = parse_datetime(text)
        if moment is None and (day := parse_date(text)) is not None:
            moment = datetime(day.year, day.month, day.day)
        if moment is not None:
            return in_utc(moment if timezone.is_aware(moment) else timezone.make_aware(moment))
        return timezone.now() - parse_duration(text)
    except ValueError:  # DurationError included
        raise ValueError(
            f"invalid time {text!r}: give a date (2026-01-31), a date-time, or a duration ago (90d)"
        ) from None


def describe(token: PersonalAccessToken) -> dict[str, Any]:
    window = token.refresh_window
    return {
        "uuid": str(token.uuid),
        "id": token.lookup_id,
        "owner": token.owner.login,
        "label": token.label,
        "expiration_model": token.get_expiration_model_display(),
        "expires_at": token.expires_at.isoformat(),
        "refresh_window": format_duration(window) if window is not None else None,
        "refresh_window_seconds": int(window.total_seconds()) if window is not None else None,
        "absolute_end": token.absolute_end.isoformat() if token.absolute_end else None,
        "scopes": list(token.scopes),
        "created_at": token.created_at.isoformat(),
        "created_by": token.created_by.login if token.created_by else None,
        "created_via": token.created_via,
        "status": token.status,
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
        "revoked_how": token.revoked_how or None,
        "usage": token.usage or None,
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
        "last_used_ip": token.last_used_ip,
        "last_used_protocol": token.last_used_protocol or None,
    }
