"""The console's login form: the password goes through ``tokens.auth.authenticate``, the one way in."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpResponse

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
                    ip=self.request.META.get("REMOTE_ADDR") if self.request is not None else None,
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


class LoginView(auth_views.LoginView):
    """Django's login page; a sign-in refused for too many failures is answered 429 (the page says when to
    retry), so that scripts and monitoring tell a lockout from a wrong password."""

    template_name = "people/login.html"
    authentication_form = LoginForm

    def form_invalid(self, form: LoginForm) -> HttpResponse:  # type: ignore[override]
        response = super().form_invalid(form)
        if form.has_error("__all__", code="throttled"):
            response.status_code = 429
        return response
