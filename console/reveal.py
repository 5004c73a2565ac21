"""The one-time reveal of a new secret, after Generate or Rotate: a panel on the tokens tab that stays until the
person dismisses it or leaves, never inside a dialog that a stray Escape would close.

With htmx the POST's response is the panel itself. Without JavaScript the POST redirects to the tab
(Post/Redirect/Get: a reload or Back never sends the form again) and the tab shows the panel once. Between the two
requests the secret is kept in two halves that say nothing alone: the session, stored on the server, holds it
XORed with a one-time pad, and a short-lived cookie holds the pad. Showing the panel drops both.
"""

from __future__ import annotations

import base64
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from tokens.format import PREFIX
from tokens.models import PersonalAccessToken

if TYPE_CHECKING:
    from people.models import User

SESSION_KEY = "token_reveal"
COOKIE = "token_reveal_pad"
#: How long a reveal waits for the redirect's GET; an abandoned one is refused after that.
LIFETIME_SECONDS = 300


@dataclass(frozen=True)
class Reveal:
    token: PersonalAccessToken
    raw: str
    #: "created" or "rotated".
    action: str
    #: What the policy changed on the way (a rotation shortened to the instance's maximum); empty when nothing.
    notice: str = ""


def _xor(data: bytes, pad: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(data, pad, strict=True))


def keep(request: HttpRequest, response: HttpResponse, reveal: Reveal) -> None:
    """Hold ``reveal`` for the next GET of the tab, split between the session and a cookie on ``response``."""
    data = reveal.raw.encode()
    pad = secrets.token_bytes(len(data))
    request.session[SESSION_KEY] = {
        "token": str(reveal.token.uuid),
        "sealed": base64.b64encode(_xor(data, pad)).decode(),
        "action": reveal.action,
        "notice": reveal.notice,
        "until": time.time() + LIFETIME_SECONDS,
    }
    response.set_cookie(
        COOKIE,
        base64.urlsafe_b64encode(pad).decode(),
        max_age=LIFETIME_SECONDS,
        httponly=True,
        samesite="Strict",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def take(request: HttpRequest, owner: User) -> Reveal | None:
    """The reveal kept for ``owner``'s tab, once: it leaves the session whether or not it can still be shown. Only
    a GET shows it: a HEAD (a link checker, a monitor) gets no body, so it must not spend the one showing."""
    if request.method != "GET":
        return None
    held = request.session.get(SESSION_KEY)
    if not isinstance(held, dict):
        return None
    try:
        token_id = uuid.UUID(str(held.get("token")))
    except ValueError:
        token_id = None
    if token_id is None:
        del request.session[SESSION_KEY]
        return None
    token = PersonalAccessToken.objects.filter(uuid=token_id, owner=owner).first()
    if token is None:
        # Kept for another tab (an administrator acting on someone else): left for that tab.
        return None
    del request.session[SESSION_KEY]
    try:
        sealed = base64.b64decode(held["sealed"])
        pad = base64.urlsafe_b64decode(request.COOKIES.get(COOKIE, ""))
        raw = _xor(sealed, pad).decode("ascii")
        fresh = float(held["until"]) >= time.time()
    except (KeyError, TypeError, ValueError):
        return None
    if not fresh:
        return None
    return Reveal(token=token, raw=raw, action=str(held.get("action", "created")), notice=str(held.get("notice", "")))


def forget(response: HttpResponse) -> None:
    """Drop the pad's cookie: once shown (or found stale), a reveal is never shown again."""
    response.delete_cookie(COOKIE, samesite="Strict")


def public_base(request: HttpRequest) -> str:
    """The address the usage examples name: ``PUBLIC_URL`` when the instance sets it, else the request's own."""
    return (settings.PUBLIC_URL or request.build_absolute_uri("/")).rstrip("/")


def reveal_context(request: HttpRequest, reveal: Reveal) -> dict[str, Any]:
    """What the panel shows: the token once, and examples of its use with this instance's address."""
    base = public_base(request)
    return {
        "token": reveal.token,
        "raw": reveal.raw,
        # The public part only (prefix and public id): the example line shows the secret behind a toggle.
        "masked": f"{PREFIX}{reveal.token.lookup_id}…",
        "action": reveal.action,
        "notice": reveal.notice,
        "api_url": f"{base}/api/v1/me",
        "dav_url": f"{base}/dav/",
        "s3_url": base,
    }
