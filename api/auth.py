"""How a REST request proves who it is: a Bearer PAT, or the console's session cookie.

Both authenticators leave a :class:`~tokens.auth.Principal` in ``request.auth``; ``principal.token`` is the
PAT when one was used (None for the session), so an endpoint can tell the two apart — token management must
never be reachable with a token (:func:`require_session`).

An ``Authorization`` header that is present is always judged on its own: a bad one is a 401, even when the
request also carries a valid session cookie (a script that sends a broken token must learn that it is broken).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security.apikey import APIKeyCookie
from ninja.security.http import HttpBearer
from ninja.utils import check_csrf

from tokens import auth
from tokens.auth import Principal

REALM = "cellsadmin"


class InvalidToken(Exception):
    """An ``Authorization`` header was sent and it does not authenticate: 401 with ``error="invalid_token"``."""


class BearerAuth(HttpBearer):
    """``Authorization: Bearer <PAT>``, checked by the one ``tokens.auth.authenticate``."""

    openapi_bearerFormat = "PAT"

    def __call__(self, request: HttpRequest) -> Principal | None:
        header = request.headers.get("Authorization")
        if not header:
            return None  # nothing sent: let the session try
        scheme, _, credential = header.partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise InvalidToken("The Authorization header must be 'Bearer <personal access token>'.")
        return self.authenticate(request, credential)

    def authenticate(self, request: HttpRequest, token: str) -> Principal:
        principal = auth.authenticate(
            token,
            protocol=auth.REST,
            ip=request.META.get("REMOTE_ADDR"),
            user_agent=request.headers.get("User-Agent", ""),
        )
        if principal is None:
            raise InvalidToken("The access token is invalid, expired or revoked.")
        # Downstream code (and Django's own helpers) expect the acting user here.
        request.user = principal.user
        return principal


class SessionAuth(APIKeyCookie):
    """The console's session, with Django's CSRF check on unsafe methods.

    Unlike ninja's ``django_auth`` it checks CSRF only once a session user is known, so an anonymous write
    gets 401 (not 403 "CSRF"); ``csrf`` stays True so the docs page sends the CSRF token.
    """

    param_name = "sessionid"

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Principal | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if check_csrf(request) is not None:
            raise HttpError(403, "CSRF check failed: send the csrftoken cookie's value as X-CSRFToken.")
        return Principal(user=user)


def principal_of(request: HttpRequest) -> Principal:
    """The principal an authenticated endpoint runs for."""
    principal: Any = getattr(request, "auth", None)
    if not isinstance(principal, Principal):
        raise TypeError("principal_of() called on an endpoint without authentication")
    return principal


def require_session(request: HttpRequest) -> Principal:
    """For endpoints a PAT may never reach (token management): 403 when a token was used."""
    principal = principal_of(request)
    if principal.token is not None:
        raise HttpError(403, "A personal access token cannot manage tokens; sign in to the console.")
    return principal


bearer_auth = BearerAuth()
session_auth = SessionAuth()
