"""The console's WebDAV locks tab: the locks a user's applications hold, and releasing one that an application
left behind (``files.locks.held_locks``). Administrators reach anyone's (People → a user → WebDAV locks); every user
reaches their own (``/me/locks/``), beside their tokens."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from console.access import page_owner, render_page, signed_in_user
from files.locks import held_locks
from people.models import User
from tokens import services
from tokens.models import PersonalAccessToken

logger = logging.getLogger(__name__)

#: The longest lock token a form may name (WsgiDAV's are ``opaquelocktoken:0x`` and 64 hex digits).
TOKEN_LENGTH = 100


@dataclass(frozen=True)
class LockPages:
    """Whose locks a page shows, reached through People (``login``) or as one's own (``/me/``)."""

    person: User
    mine: bool

    @property
    def release_url(self) -> str:
        return reverse("my-lock-release") if self.mine else reverse("people-lock-release", args=[self.person.login])

    def context(self, *, notice: str = "") -> dict[str, Any]:
        return {
            "pages": self,
            "person": self.person,
            "owner": self.person,
            "locks": held_locks.describe(held_locks.held(holder=self.person)),
            "notice": notice,
            "layout": "tokens/mine.html" if self.mine else "people/user.html",
            "current_tab": "locks",
        }


def _pages(request: HttpRequest, login: str | None) -> LockPages:
    person, mine = page_owner(request, login)
    return LockPages(person=person, mine=mine)


@require_safe
@login_required
def locks_tab(request: HttpRequest, login: str | None = None) -> HttpResponse:
    pages = _pages(request, login)
    return render_page(request, "files/locks.html", "tab-panel", pages.context())


@require_POST
@login_required
def release_lock(request: HttpRequest, login: str | None = None) -> HttpResponse:
    """Release the lock named by the form's ``token``, if this user holds it; the tab again, saying what
    happened (a lock that ended meanwhile, or never was this user's, is simply no longer held). Without htmx,
    the whole page: posting the form again only says the lock is no longer held."""
    pages = _pages(request, login)
    token = request.POST.get("token", "")[:TOKEN_LENGTH]
    chosen = held_locks.held(holder=pages.person).filter(token=token) if token and "\x00" not in token else None
    released = (
        services.locks_release(
            chosen,
            actor=signed_in_user(request),
            via=PersonalAccessToken.VIA_CONSOLE,
            ip=request.META.get("REMOTE_ADDR"),
        )
        if chosen is not None
        else []
    )
    if released:
        path = released[0].path
        notice = f"Released the lock on {path}: it can be changed again."
        logger.info("WebDAV lock on %s held by %s released by %s via console", path, pages.person.login, request.user)
    else:
        notice = "That lock is no longer held."
    return render_page(request, "files/locks.html", "tab-panel", pages.context(notice=notice))
