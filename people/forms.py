"""The console's login form: the password goes through ``tokens.auth.authenticate``, the one way in."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from cellsadmin.client_address import client_ip
from tokens.auth import CONSOLE, authenticate
from tokens.throttle import PasswordLocked, Throttled


class LoginForm(AuthenticationForm):
    """Username and password. A Personal Access Token is no console login: a token can never manage tokens."""

    def clean(self) -> dict[str, Any]:
        login = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if login and password:
            try:
                principal = authenticate(
                    password,
                    login=login,
                    protocol=CONSOLE,
                    ip=client_ip(self.request) if self.request is not None else None,
                    allow_password=True,
                    request=self.request,
                )
            except PasswordLocked as locked:
                raise forms.ValidationError(
                    f"Too many failed sign-ins for this login; try again in {locked.retry_after} seconds.",
                    code="throttled",
                ) from None
            except Throttled as throttled:
                raise forms.ValidationError(
                    f"Too many failed attempts from your address; try again in {throttled.retry_after} seconds.",
                    code="throttled",
                ) from None
            if principal is None:
                raise self.get_invalid_login_error()
            self.user_cache = principal.user
            self.confirm_login_allowed(principal.user)
        return self.cleaned_data
