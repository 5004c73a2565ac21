"""Who may see which console page. The console only knows session logins: a Personal Access Token never
reaches these views, so no token can create, list or delete tokens here."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from people.models import User

View = Callable[..., HttpResponse]


def signed_in_user(request: HttpRequest) -> User:
    """The session's user, typed; the views that call it are behind ``login_required``."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied
    return user


def admin_required(view: View) -> View:
    """Logged in (else to the login page) and an administrator (else 403)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not signed_in_user(request).is_admin:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def page_owner(request: HttpRequest, login: str | None) -> tuple[User, bool]:
    """Whose page a request reaches, and whether it is the signed-in user's own: their own without ``login``
    (``/me/…``), anyone's for an administrator (``/people/<login>/…``, 404 for no such user), else 403."""
    from django.shortcuts import get_object_or_404

    user = signed_in_user(request)
    if login is None:
        return user, True
    if not user.is_admin:
        raise PermissionDenied
    return get_object_or_404(User, login__iexact=login), False


def is_partial(request: HttpRequest) -> bool:
    """An htmx request that wants a fragment. History restores (back button after a cache miss) get the page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]


def render_page(
    request: HttpRequest, template: str, partial: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """``template`` for a normal request, ``template#partial`` for an htmx one; the response varies on it so
    that a browser cache never serves a fragment where a page was asked for."""
    from django.shortcuts import render
    from django.utils.cache import patch_vary_headers

    name = f"{template}#{partial}" if is_partial(request) else template
    response = render(request, name, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response
