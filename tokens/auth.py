"""The one way in: every credential a request presents (REST Bearer, WebDAV basic auth, console password)
becomes a :class:`Principal` here, or nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import authenticate as authenticate_password
from django.http import HttpRequest

from files.scopes import Scope
from tokens import throttle
from tokens.format import looks_like_token, parse
from tokens.models import PersonalAccessToken
from tokens.scopes import REST, S3, WEBDAV

if TYPE_CHECKING:
    from people.models import User

__all__ = ["CONSOLE", "REST", "S3", "WEBDAV", "Principal", "authenticate"]

CONSOLE = "console"


@dataclass(frozen=True)
class Principal:
    """Who a request acts for, and through which token (None: the user's own password or session)."""

    user: User
    token: PersonalAccessToken | None = None

    @property
    def scopes(self) -> list[Scope]:
        """What the token narrows the user's reach to (none: the user's own reach)."""
        return self.token.parsed_scopes if self.token is not None else []

    def manages(self, owner: User) -> bool:
        """Whether this principal may manage ``owner``'s tokens (list, create, read, rotate, delete) over the REST
        API. A session: its user's own, an administrator's anyone's. A token: with ``tokens:self`` its owner's,
        with ``tokens:all`` everyone's while its owner is an administrator (else its owner's); without a
        ``tokens:`` scope none but itself (:meth:`manages_token`)."""
        if self.token is None:
            return self.user.is_admin or owner.pk == self.user.pk
        level = self.token.scope_set.manages
        if level == "all" and self.user.is_admin:
            return True
        return level != "" and owner.pk == self.user.pk

    @property
    def manages_everyone(self) -> bool:
        """Whether a listing without an owner shows everyone's tokens (else the principal's own)."""
        if self.token is None:
            return self.user.is_admin
        return self.token.scope_set.manages == "all" and self.user.is_admin

    def manages_token(self, token: PersonalAccessToken) -> bool:
        """Whether this principal may read, rotate and delete ``token``: any token itself, the others as
        :meth:`manages` says for their owner."""
        return (self.token is not None and token.pk == self.token.pk) or self.manages(token.owner)


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

    Raises :class:`tokens.throttle.Throttled` when the client IP has failed too often (a password: checked
    first, before the password; a token: read with the token's row, before the secret is compared),
    :class:`tokens.throttle.PasswordLocked` when a password is presented for a login whose password failed too
    often on any protocol, or either when this failure crosses a limit. A token that authenticates costs one
    database round trip and no cache round trip.
    """
    password_login = login if _takes_password(secret, protocol=protocol, login=login, allow=allow_password) else None
    if password_login is not None:
        gate = throttle.check(ip=ip, password_login=password_login)
        user = authenticate_password(request, username=password_login, password=secret)
        if user is not None and user.is_active:
            throttle.record_password_success(gate)
            return Principal(user=user)
        throttle.record_failure(gate=gate, ip=ip, token_id=None, password_checked=True)
        return None
    principal = _token_principal(secret, protocol=protocol, login=login, ip=ip, user_agent=user_agent)
    if principal is None:
        # An address over its limit is refused here too: its count is then past the limit.
        parsed = parse(secret)
        throttle.record_failure(
            gate=throttle.Gate(),
            ip=ip,
            token_id=parsed.lookup_id if parsed is not None else None,
            password_checked=False,
        )
    return principal


def _takes_password(secret: str, *, protocol: str, login: str | None, allow: bool) -> bool:
    """Whether ``secret`` is to be checked as ``login``'s password (decided before anything is read)."""
    if looks_like_token(secret) or not login or _holds_nul(secret, login):
        return False
    if protocol == WEBDAV and not settings.WEBDAV_ALLOW_PASSWORD:
        return False
    return allow


def _token_principal(
    secret: str, *, protocol: str, login: str | None, ip: str | None, user_agent: str
) -> Principal | None:
    if not looks_like_token(secret) or _holds_nul(secret, login):
        return None
    if protocol == CONSOLE:
        return None  # a token is no console login
    token = PersonalAccessToken.objects.authenticate(
        secret, ip=ip, protocol=protocol, user_agent=user_agent, login=login
    )
    return Principal(user=token.owner, token=token) if token is not None else None


def _holds_nul(secret: str, login: str | None) -> bool:
    # PostgreSQL text cannot even be compared with a NUL: such a login or secret is refused unread.
    return "\x00" in secret or (login is not None and "\x00" in login)
