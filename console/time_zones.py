"""Times in the viewer's zone: a person's preference (Preferences tab), else the instance's ``TIME_ZONE``.

The zone is activated for requests that carry a session cookie only: a script authenticating with a token pays
nothing for a preference it cannot see."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import lru_cache

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from console.access import render_page, signed_in_user


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """Every IANA zone name this system knows, sorted; the legacy aliases (``US/Eastern``) left out."""
    names = (name for name in zoneinfo.available_timezones() if "/" in name and not name.startswith(("US/", "Etc/")))
    return (*sorted(names), "UTC")


def zone(name: str) -> zoneinfo.ZoneInfo | None:
    """The zone ``name`` names, or None for an empty or unknown name (a zone removed from the system since)."""
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


class ViewerTimeZone:
    """Activates the signed-in person's zone for the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        preferred = None
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                preferred = zone(getattr(user, "time_zone", ""))
        if preferred is None:
            return self.get_response(request)
        with timezone.override(preferred):
            return self.get_response(request)


def _zone_choices() -> list[tuple[str, str]]:
    return [("", f"Instance default ({settings.TIME_ZONE})"), *((name, name) for name in zone_names())]


class PreferencesForm(forms.Form):
    time_zone = forms.ChoiceField(
        required=False,
        label="Time zone",
        choices=_zone_choices,
        error_messages={"invalid_choice": "Choose a time zone from the list."},
    )


@require_http_methods(["GET", "POST"])
@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    """The signed-in person's preferences (the zone times are shown in). POST saves and redirects back."""
    user = signed_in_user(request)
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            user.time_zone = form.cleaned_data["time_zone"]
            user.save(update_fields=["time_zone"])
            response = redirect("my-preferences")
            response.status_code = 303
            return response
    else:
        form = PreferencesForm(initial={"time_zone": user.time_zone})
    context = {
        "form": form,
        "owner": user,
        "person": user,
        "pages": {"mine": True},
        "layout": "tokens/mine.html",
        "current_tab": "preferences",
        "active_zone": timezone.get_current_timezone_name(),
        "now": timezone.now(),
    }
    return render_page(request, "people/preferences.html", "tab-panel", context)
