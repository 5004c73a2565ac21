"""The console's create form, mapped onto the same service the command line calls, and the reason form of the
delete dialogs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.datastructures import MultiValueDict

from console.filters import end_of_day
from tokens.durations import DurationError, describe_duration, parse_duration
from tokens.models import PersonalAccessToken, TokenError
from tokens.scopes import PROTOCOLS, AddressError, ScopeError, TokenScopes, parse_network, parse_scopes
from tokens.services import token_create

if TYPE_CHECKING:
    from people.models import User

UNITS: dict[str, tuple[str, timedelta]] = {
    "m": ("Minutes", timedelta(minutes=1)),
    "h": ("Hours", timedelta(hours=1)),
    "d": ("Days", timedelta(days=1)),
    "w": ("Weeks", timedelta(weeks=1)),
}
#: The lifetimes the dialog offers with one click, in days (as GitHub offers them); typing one is the custom way.
PRESET_DAYS = (7, 30, 60, 90)
MODEL_HINTS = {
    PersonalAccessToken.HARD_LIMIT: "Expires at a fixed time: the duration after its creation.",
    PersonalAccessToken.AUTO_REFRESH: "Expires after the duration without use; each use pushes the end forward.",
}
_DURATION_ERROR = "Enter the duration as a whole number greater than zero, e.g. 30."
#: The token management an administrator may give a token: (``tokens:`` value, what the dialog says).
MANAGES = [
    ("", "None: it can read, rotate and delete only itself"),
    ("self", "Its owner's tokens (tokens:self)"),
    ("all", "Everyone's tokens (tokens:all), for an administrator's token"),
]
#: Longest reason a deletion may record.
REASON_LENGTH = 500


def expiry_preview(duration: object, unit: object, *, now: datetime | None = None) -> datetime | None:
    """When a token made now with ``duration`` ``unit`` ends (Hard Limit) or ends if unused (Auto Refresh), or
    None for values that are no duration: what the dialog says under the fields before anything is sent."""
    try:
        count = int(str(duration))
    except ValueError:
        return None
    if not 0 < count <= 10_000_000 or unit not in UNITS:
        return None
    try:
        return (now or timezone.now()) + count * UNITS[str(unit)][1]
    except OverflowError:
        return None


def default_duration() -> tuple[int, str]:
    """TOKEN_DEFAULT_DURATION as the dialog's (number, unit): the largest of Days, Hours, Minutes that divides it.

    A value in seconds that is no whole number of minutes is rounded up to one; a value that does not parse
    falls back to 30 days rather than break the dialog (the policy page shows the setting as written)."""
    try:
        seconds = int(parse_duration(settings.TOKEN_DEFAULT_DURATION).total_seconds())
    except DurationError:
        return 30, "d"
    for key in ("d", "h", "m"):
        size = int(UNITS[key][1].total_seconds())
        if seconds % size == 0:
            return seconds // size, key
    return -(-seconds // 60), "m"


def policy_hints(owner: User) -> dict[str, Any]:
    """What the create dialog says about the instance's limits."""
    limit = settings.TOKEN_MAX_PER_USER
    live = PersonalAccessToken.objects.filter(owner=owner, expires_at__gt=timezone.now()).count() if limit else 0
    # As written in the setting, in words, as the refusal message says it (90d stays 90 days, not 12w6d).
    return {"max_lifetime": describe_duration(settings.TOKEN_MAX_LIFETIME), "per_user": limit, "live": live}


class TokenForm(forms.Form):
    label = forms.CharField(
        max_length=200,
        strip=True,
        error_messages={
            "required": "Give the token a label that says what uses it, e.g. “backup script”.",
            "max_length": "A label must be at most 200 characters long.",
        },
    )
    expiration_model = forms.ChoiceField(
        choices=PersonalAccessToken.MODELS,
        initial=PersonalAccessToken.HARD_LIMIT,
        error_messages={
            "required": "Choose Hard Limit or Auto Refresh.",
            "invalid_choice": "Choose Hard Limit or Auto Refresh.",
        },
    )
    # The ceiling only keeps the arithmetic finite; the instance's TOKEN_MAX_LIFETIME is checked by issue().
    duration = forms.IntegerField(
        min_value=1,
        max_value=10_000_000,
        initial=30,
        error_messages={key: _DURATION_ERROR for key in ("required", "invalid", "min_value", "max_value")},
    )
    unit = forms.ChoiceField(
        choices=[(key, name) for key, (name, _size) in UNITS.items()],
        initial="d",
        error_messages={
            "required": "Choose minutes, hours, days or weeks.",
            "invalid_choice": "Choose minutes, hours, days or weeks.",
        },
    )

    # Auto Refresh only: the day after which no use pushes the end further (the command line's -e beside -a).
    ends_on = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": "Give the last day as 2027-01-31."},
    )

    read_only = forms.BooleanField(required=False)
    protocols = forms.MultipleChoiceField(
        required=False,
        choices=[(value, name) for value, name in PROTOCOLS.items()],
        error_messages={"invalid_choice": "Choose among REST, WebDAV and S3."},
    )
    addresses = forms.CharField(
        required=False,
        max_length=2000,
        error_messages={"max_length": "List at most 2,000 characters of addresses."},
    )
    manages = forms.ChoiceField(
        required=False,
        choices=[(value, name) for value, name in MANAGES],
        error_messages={"invalid_choice": "Choose what the token may manage."},
    )

    def __init__(self, *args: Any, owner: User, can_manage: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.scopes = TokenScopes()
        # Token management is given by an administrator only; the field is not even read for anyone else.
        self.can_manage = can_manage
        if not can_manage:
            del self.fields["manages"]
        if not self.is_bound:
            self.initial.setdefault("duration", default_duration()[0])
            self.initial.setdefault("unit", default_duration()[1])

    def clean_addresses(self) -> str:
        """One address or network per entry, separated by commas, spaces or lines; each must parse."""
        text: str = self.cleaned_data.get("addresses", "")
        problems = []
        for entry in text.replace(",", " ").split():
            try:
                parse_network(entry)
            except AddressError as error:
                problems.append(error.detail)
        if problems:
            raise forms.ValidationError(problems)
        return text

    def clean(self) -> dict[str, Any] | None:
        """The scopes of every kind the dialog offers, as strings read by the one scope parser."""
        cleaned = super().clean() or {}
        values = self.data.getlist("scope") if isinstance(self.data, MultiValueDict) else []
        try:
            nodes = parse_scopes(value for value in values if value).nodes
        except ScopeError as error:
            self.add_error(None, str(error))
            return cleaned
        if cleaned.get("read_only"):
            if any(scope.write for scope in nodes):
                self.add_error(
                    "read_only", "“Read only” is checked, but a scope below asks for w: choose r, or uncheck it."
                )
            # Read only without a chosen node: every file the owner reaches, now or later, read only.
            strings = [str(scope) for scope in nodes] or ["node:*:r"]
        else:
            strings = [str(scope) for scope in nodes]
        strings += [f"protocol:{value}" for value in cleaned.get("protocols") or []]
        strings += [f"ip:{entry}" for entry in (cleaned.get("addresses") or "").replace(",", " ").split()]
        if cleaned.get("manages"):
            strings.append(f"tokens:{cleaned['manages']}")
        try:
            self.scopes = parse_scopes(strings)
        except ScopeError as error:
            self.add_error(None, str(error))
        return cleaned

    @property
    def chosen(self) -> dict[str, str]:
        """node uuid → permission, as chosen in the picker (for showing the form again)."""
        return {str(scope.node): scope.perm for scope in self.scopes.nodes if scope.node is not None}

    def issue(self, *, created_by: User, ip: str | None = None) -> tuple[PersonalAccessToken, str] | None:
        """The new token and its plain text, or None with the manager's refusal added to the form's errors."""
        assert self.is_valid()
        data = self.cleaned_data
        length = data["duration"] * UNITS[data["unit"]][1]
        auto = data["expiration_model"] == PersonalAccessToken.AUTO_REFRESH
        # The last day is the viewer's day: it ends at the midnight that ends it in their zone.
        ends_at = end_of_day(data["ends_on"]) if auto and data.get("ends_on") else None
        try:
            return token_create(
                owner=self.owner,
                label=data["label"],
                expires_in=None if auto else length,
                refresh_window=length if auto else None,
                ends_at=ends_at,
                scopes=self.scopes,
                actor=created_by,
                via=PersonalAccessToken.VIA_CONSOLE,
                ip=ip,
            )
        except TokenError as error:
            self.add_error(None, str(error))
            return None


class ReasonForm(forms.Form):
    """The optional reason a deletion records in the audit trail."""

    reason = forms.CharField(
        required=False,
        max_length=REASON_LENGTH,
        strip=True,
        error_messages={"max_length": f"A reason must be at most {REASON_LENGTH} characters long."},
    )
