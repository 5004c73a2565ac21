"""The filters of the administrators' token inventory and audit trail: GET forms that narrow a query.

A filter that does not validate is reported on the form and left out; the others still apply, so a half-typed
date never empties the page nor raises.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date

from tokens.audit import AuditEvent
from tokens.durations import LATEST, in_utc, parse_duration
from tokens.models import STATUSES, PersonalAccessToken, has_status

_SEARCH = {"type": "search", "autocomplete": "off"}


def start_of_day(day: date) -> datetime:
    """Midnight of ``day`` in the instance's time zone: the dates people type are local dates."""
    return in_utc(timezone.make_aware(datetime.combine(day, time.min)))


def end_of_day(day: date) -> datetime:
    """The midnight that ends ``day``; the last day a datetime holds ends at the last moment."""
    return start_of_day(day + timedelta(days=1)) if day < date.max else LATEST


def parse_unused_since(text: str, now: datetime) -> datetime:
    """A moment from what a person types: a date (2026-01-31, from its midnight), a number of days (30) or a
    duration (12h, 2w) ago."""
    value = text.strip()
    if value.isascii() and value.isdigit():
        return now - timedelta(days=int(value[:5]))
    try:
        # parse_date raises for a well-formed date that does not exist (2026-02-30); that is a typo like any other.
        day = parse_date(value) if len(value) == 10 else None
        if day is not None:
            return start_of_day(day)
        return now - parse_duration(value)
    except ValueError:  # DurationError included
        raise forms.ValidationError(
            "Give a date (2026-01-31), a number of days (30) or a duration (12h, 2w).", code="invalid"
        ) from None


class InventoryFilter(forms.Form):
    owner = forms.CharField(required=False, max_length=150, widget=forms.TextInput(attrs=_SEARCH))
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *STATUSES.items()])
    expiring_within = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=3650,
        error_messages={key: "Give a number of days from 0 to 3650." for key in ("invalid", "min_value", "max_value")},
    )
    unused_since = forms.CharField(required=False, max_length=40)

    def __init__(self, *args: Any, now: datetime | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.now = now or timezone.now()

    def clean_unused_since(self) -> datetime | None:
        text = self.cleaned_data["unused_since"]
        return parse_unused_since(text, self.now) if text else None

    def tokens(self) -> list[PersonalAccessToken]:
        """The matching tokens, in one query whatever their number. Active and Expiring soon depend on each
        token's model and window, so they are decided in Python, as ``token_list`` does."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        tokens = PersonalAccessToken.objects.select_related("owner", "created_by").order_by(
            "owner__login", "-created_at"
        )
        if data.get("owner"):
            tokens = tokens.filter(owner__login__icontains=data["owner"])
        # The current expiry: when the token stops if nothing happens (an Auto Refresh token's next use moves it).
        if data.get("expiring_within") is not None:
            end = self.now + timedelta(days=data["expiring_within"])
            tokens = tokens.filter(expires_at__gt=self.now, expires_at__lte=end)
        if data.get("unused_since") is not None:
            moment = data["unused_since"]
            # A use at the moment itself counts as a use; a token created after it was not around to be unused.
            tokens = tokens.filter(Q(last_used_at__lt=moment) | Q(last_used_at__isnull=True, created_at__lt=moment))
        status = data.get("status")
        if status == "expired":
            tokens = tokens.filter(expires_at__lte=self.now)
        elif status in ("active", "expiring"):
            tokens = tokens.filter(expires_at__gt=self.now)
        elif status == "never-used":
            tokens = tokens.filter(last_used_at__isnull=True)
        if not status:
            return list(tokens)
        return [token for token in tokens if has_status(token, status)]


class AuditFilter(forms.Form):
    actor = forms.CharField(required=False, max_length=150, widget=forms.TextInput(attrs=_SEARCH))
    owner = forms.CharField(required=False, max_length=150, widget=forms.TextInput(attrs=_SEARCH))
    event = forms.ChoiceField(required=False, choices=[("", "Any event"), *AuditEvent.EVENTS])
    since = forms.DateField(
        required=False, label="From", error_messages={"invalid": "Give the first day as 2026-01-31."}
    )
    until = forms.DateField(required=False, label="To", error_messages={"invalid": "Give the last day as 2026-01-31."})

    def events(self) -> QuerySet[AuditEvent]:
        """Matching records, newest first; ``From`` and ``To`` are whole local days, both included."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        events = AuditEvent.objects.all()
        if data.get("actor"):
            events = events.filter(actor_label__icontains=data["actor"])
        if data.get("owner"):
            events = events.filter(owner_login__icontains=data["owner"])
        if data.get("event"):
            events = events.filter(event=data["event"])
        if data.get("since") is not None:
            events = events.filter(at__gte=start_of_day(data["since"]))
        if data.get("until") is not None:
            events = events.filter(at__lt=end_of_day(data["until"]))
        return events
