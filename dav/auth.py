"""Basic auth for WebDAV: the login and a PAT (or the user's password) become a Principal; a PAT presented with
another user's login is refused.

The domain controller hands the credentials to ``tokens.auth.authenticate``, the one way in, and leaves the
principal in the WSGI environ for the provider. The authenticator answers a malformed ``Authorization: Basic``
header with 401 (WsgiDAV's own raises on bad base64, a missing colon or non-UTF-8 bytes, which ends as 500),
and names the request's user by uuid: that name is the owner of the locks it takes, whatever case or
spelling of the login the client typed.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from typing import Any

from wsgidav.dc.base_dc import BaseDomainController
from wsgidav.http_authenticator import HTTPAuthenticator

from tokens.auth import WEBDAV, Principal, authenticate
from tokens.throttle import Throttled

REALM = "cellsadmin"
PRINCIPAL_KEY = "cellsadmin.principal"

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


def principal_of(environ: Environ) -> Principal:
    principal = environ[PRINCIPAL_KEY]
    assert isinstance(principal, Principal)
    return principal


def lock_principal(principal: Principal) -> str:
    """Who owns a lock: the authenticated user, never the spelling of the login a client sent."""
    return str(principal.user.uuid)


class DomainController(BaseDomainController):  # type: ignore[misc]
    def __init__(self, wsgidav_app: Any, config: dict[str, Any]) -> None:
        super().__init__(wsgidav_app, config)

    def __str__(self) -> str:
        return "cellsadmin"

    def get_domain_realm(self, path_info: str, environ: Environ | None) -> str:
        return REALM

    def require_authentication(self, realm: str, environ: Environ | None) -> bool:
        return True

    def supports_http_digest_auth(self) -> bool:
        # Digest would need the password (or token) in a recoverable form; we keep neither.
        return False

    def basic_auth_user(self, realm: str, user_name: str, password: str, environ: Environ) -> bool:
        principal = authenticate(
            password,
            login=user_name,
            protocol=WEBDAV,
            ip=environ.get("REMOTE_ADDR"),
            user_agent=environ.get("HTTP_USER_AGENT", ""),
            allow_password=True,
        )
        if principal is None:
            return False
        environ[PRINCIPAL_KEY] = principal
        return True


class BasicAuthenticator(HTTPAuthenticator):  # type: ignore[misc]
    def handle_basic_auth_request(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        realm = self.domain_controller.get_domain_realm(environ["PATH_INFO"], environ)
        credentials = _parse_basic(environ.get("HTTP_AUTHORIZATION", ""))
        try:
            accepted = credentials is not None and self.domain_controller.basic_auth_user(realm, *credentials, environ)
        except Throttled as throttled:
            # WebDAV clients retry a 401 with the same credentials; Retry-After tells them how long to wait.
            retry_after = str(throttled.retry_after)

            def delayed(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
                return start_response(status, [*headers, ("Retry-After", retry_after)], *args)

            return self.send_basic_auth_response(environ, delayed)  # type: ignore[no-any-return]
        if not accepted:
            return self.send_basic_auth_response(environ, start_response)  # type: ignore[no-any-return]
        environ["wsgidav.auth.realm"] = realm
        environ["wsgidav.auth.user_name"] = lock_principal(principal_of(environ))
        return self.next_app(environ, start_response)  # type: ignore[no-any-return]


def _parse_basic(header: str) -> tuple[str, str] | None:
    """``Basic base64(login:secret)`` → (login, secret); None for anything malformed."""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip().encode("ascii"), validate=True).decode("utf-8")
    except (ValueError, UnicodeError):  # binascii.Error is a ValueError
        return None
    login, colon, secret = decoded.partition(":")
    if not colon or not login:
        return None
    return login, secret
