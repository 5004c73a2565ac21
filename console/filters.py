"""The filters of the administrators' token inventory and audit trail: GET forms that narrow a query.

A filter that does not validate is reported on the form and left out; the others still apply, so a half-typed
date never empties the page nor raises.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Lower
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.dateparse import parse_date

from tokens.audit import AuditEvent
from tokens.durations import LATEST, in_utc, parse_duration
from tokens.models import STATUSES, PersonalAccessToken

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


def login_key(field: str, login: str) -> Q:
    """``field`` is ``login`` in any case: ``lower(field) = lower(login)``, computed by the database on both sides so
    that it folds as the indexes on ``Lower(field)`` do (the users' unique login, the audit trail's logins)."""
    return Q(Exact(Lower(field), Lower(Value(login.strip()))))


_EXACT_LOGIN = "The exact login, in any case."


class InventoryFilter(forms.Form):
    owner = forms.CharField(
        required=False, max_length=150, widget=forms.TextInput(attrs=_SEARCH), help_text=_EXACT_LOGIN
    )
    label = forms.CharField(
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs=_SEARCH),
        help_text="Part of the label, e.g. backup script.",
    )
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

    def tokens(self) -> QuerySet[PersonalAccessToken]:
        """The matching tokens, every filter a condition in SQL (statuses too: ``with_status``); unordered and
        unsliced, for the caller to count and page."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        tokens = PersonalAccessToken.objects.select_related("owner", "created_by")
        if data.get("owner", "").strip():
            # Exact, not "contains": the login's index finds the owner, the (owner, created_at) index the page.
            tokens = tokens.filter(login_key("owner__login", data["owner"]))
        if data.get("label", "").strip():
            # Through an index (``label_contains``): a term that matches no token does not read them all.
            tokens = tokens.label_contains(data["label"].strip())
        # The current expiry: when the token stops if nothing happens (an Auto Refresh token's next use moves it).
        if data.get("expiring_within") is not None:
            end = self.now + timedelta(days=data["expiring_within"])
            tokens = tokens.filter(expires_at__gt=self.now, expires_at__lte=end)
        if data.get("unused_since") is not None:
            moment = data["unused_since"]
            # A use at the moment itself counts as a use; a token created after it was not around to be unused.
            tokens = tokens.filter(Q(last_used_at__lt=moment) | Q(last_used_at__isnull=True, created_at__lt=moment))
        if data.get("status"):
            tokens = tokens.with_status(data["status"], now=self.now)
        return tokens


class AuditFilter(forms.Form):
    actor = forms.CharField(
        required=False,
        max_length=150,
        widget=forms.TextInput(attrs=_SEARCH),
        help_text='The exact login, in any case, or "command line" or "system".',
    )
    owner = forms.CharField(
        required=False, max_length=150, widget=forms.TextInput(attrs=_SEARCH), help_text=_EXACT_LOGIN
    )
    event = forms.ChoiceField(required=False, choices=[("", "Any event"), *AuditEvent.EVENTS])
    since = forms.DateField(
        required=False, label="From", error_messages={"invalid": "Give the first day as 2026-01-31."}
    )
    until = forms.DateField(required=False, label="To", error_messages={"invalid": "Give the last day as 2026-01-31."})

    def events(self) -> QuerySet[AuditEvent]:
        """Matching records, unordered; ``From`` and ``To`` are whole local days, both included. Logins match
        exactly in any case, which the (lower(login), at) indexes serve."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        events = AuditEvent.objects.all()
        if data.get("actor", "").strip():
            events = events.filter(login_key("actor_label", data["actor"]))
        if data.get("owner", "").strip():
            events = events.filter(login_key("owner_login", data["owner"]))
        if data.get("event"):
            events = events.filter(event=data["event"])
        if data.get("since") is not None:
            events = events.filter(at__gte=start_of_day(data["since"]))
        if data.get("until") is not None:
            events = events.filter(at__lt=end_of_day(data["until"]))
        return events
