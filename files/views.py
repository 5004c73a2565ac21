"""The console's WebDAV locks tab (People → a user): the locks the user's applications hold, and releasing one
that an application left behind (``files.held_locks``). Administrators only, as the rest of People."""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET, require_POST

from files import held_locks
from people.models import User
from people.permissions import admin_required, render_page

logger = logging.getLogger(__name__)

#: The longest lock token a form may name (WsgiDAV's are ``opaquelocktoken:0x`` and 64 hex digits).
TOKEN_LENGTH = 100


def _context(person: User, *, notice: str = "") -> dict[str, Any]:
    return {
        "person": person,
        "locks": held_locks.describe(held_locks.held(holder=person)),
        "notice": notice,
        "layout": "people/user.html",
        "current_tab": "locks",
    }


@require_GET
@admin_required
def locks_tab(request: HttpRequest, login: str) -> HttpResponse:
    person = get_object_or_404(User, login__iexact=login)
    return render_page(request, "files/locks.html", "tab-panel", _context(person))


@require_POST
@admin_required
def release_lock(request: HttpRequest, login: str) -> HttpResponse:
    """Release the lock named by the form's ``token``, if this user holds it; the tab again, saying what
    happened (a lock that ended meanwhile, or never was this user's, is simply no longer held)."""
    person = get_object_or_404(User, login__iexact=login)
    token = request.POST.get("token", "")[:TOKEN_LENGTH]
    chosen = held_locks.held(holder=person).filter(token=token) if token and "\x00" not in token else None
    released = held_locks.describe(chosen) if chosen is not None else []
    if chosen is not None and released and held_locks.release(chosen):
        path = released[0].path
        notice = f"Released the lock on {path}: it can be changed again."
        logger.info("WebDAV lock on %s held by %s released by %s via console", path, person.login, request.user)
    else:
        notice = "That lock is no longer held."
    # The whole page without htmx: posting the form again only says the lock is no longer held.
    return render_page(request, "files/locks.html", "tab-panel", _context(person, notice=notice))
