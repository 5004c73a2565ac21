"""The one way in: every credential a request presents (REST Bearer, WebDAV basic auth, console password)
becomes a :class:`Principal` here, or nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import authenticate as authenticate_password
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from tokens import throttle
from tokens.format import looks_like_token, parse
from tokens.models import PersonalAccessToken

if TYPE_CHECKING:
    from people.models import User

REST = "REST"
WEBDAV = "WebDAV"
CONSOLE = "console"


@dataclass(frozen=True)
class Principal:
    """Who a request acts for, and through which token (None: the user's own password or session)."""

    user: User
    token: PersonalAccessToken | None = None


def authenticate(
    secret: str,
    *,
    protocol: str,
    login: str | None = None,
    ip: str | None = None,
    allow_password: bool = False,
    user_agent: str = "",
    request: HttpRequest | None = None,
) -> Principal | None:
    """Turn a presented secret into a principal.

    A string that starts like a token is only ever checked as a token (never as a password). With ``login``
    (basic auth), a token must belong to that login. Passwords are tried only where ``allow_password`` says
    the protocol takes them (the console; WebDAV unless the instance policy ``WEBDAV_ALLOW_PASSWORD`` is off).

    Raises :class:`tokens.throttle.Throttled` when the client IP has failed too often (checked first, at no
    database cost), or when this failure crosses a limit.
    """
    throttle.check_client(ip)
    principal = _principal(
        secret,
        protocol=protocol,
        login=login,
        ip=ip,
        allow_password=allow_password,
        user_agent=user_agent,
        request=request,
    )
    if principal is None:
        parsed = parse(secret)
        throttle.record_failure(ip=ip, token_id=parsed.lookup_id if parsed is not None else None)
    return principal


def _principal(
    secret: str,
    *,
    protocol: str,
    login: str | None,
    ip: str | None,
    allow_password: bool,
    user_agent: str,
    request: HttpRequest | None,
) -> Principal | None:
    if "\x00" in secret or (login is not None and "\x00" in login):
        return None  # no login or secret holds a NUL; PostgreSQL text could not even be compared with one
    if looks_like_token(secret):
        if protocol == CONSOLE:
            return None  # a token is no console login: a token can never manage tokens
        token = PersonalAccessToken.objects.authenticate(
            secret, ip=ip, protocol=protocol, user_agent=user_agent, login=login
        )
        return Principal(user=token.owner, token=token) if token is not None else None
    if protocol == WEBDAV and not settings.WEBDAV_ALLOW_PASSWORD:
        allow_password = False
    if allow_password and login:
        if request is not None:
            user = authenticate_password(request, username=login, password=secret)
        else:
            # No HttpRequest (WebDAV): django-axes needs one; tokens.throttle guards this path instead.
            user = ModelBackend().authenticate(None, username=login, password=secret)
        if user is not None and user.is_active:
            return Principal(user=user)
    return None
