"""The Personal Access Tokens tab: list, create dialog, scope picker, rotate and delete.

Each view serves both URL families of tokens/urls.py: with ``login`` (an administrator acting on anyone) and
without (a user acting on their own tokens). Only a session login reaches them.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe
from django_htmx.http import reswap, retarget, trigger_client_event

from console import picker, reveal
from console.access import is_partial, page_owner, render_page, signed_in_user
from console.forms import (
    MANAGES,
    MODEL_HINTS,
    PRESET_DAYS,
    UNITS,
    ReasonForm,
    TokenForm,
    expiry_preview,
    policy_hints,
)
from console.paging import page_of
from console.token_rows import TokenRow, expiration_label, inactive_tokens, live_tokens, token_rows
from files.models import Node
from people.models import User
from tokens.durations import describe_duration
from tokens.models import PersonalAccessToken, TokenError
from tokens.scopes import PROTOCOLS, REST, S3, WEBDAV
from tokens.services import token_delete, token_rotate

logger = logging.getLogger(__name__)

#: The event the token list listens to (``hx-trigger="tokensChanged from:body"``).
TOKENS_CHANGED = "tokensChanged"
#: Closes the open dialog (static/js/console.js).
CLOSE_DIALOG = "closeDialog"
#: Tokens a page of the live or the inactive list shows (GitLab pages its lists by 20).
PAGE_SIZE = 20


@dataclass(frozen=True)
class TokenPages:
    """Whose tokens a page shows, and the URLs of its actions in the URL family it was reached through."""

    owner: User
    mine: bool

    def url(self, name: str, **kwargs: Any) -> str:
        if self.mine:
            return reverse(f"my-tokens:{name}", kwargs=kwargs)
        return reverse(f"people-tokens:{name}", kwargs={"login": self.owner.login, **kwargs})

    @property
    def tab_url(self) -> str:
        return self.url("tab")

    @property
    def list_url(self) -> str:
        return self.url("list")

    @property
    def create_url(self) -> str:
        return self.url("create")

    @property
    def nodes_url(self) -> str:
        return self.url("scope-children")

    @property
    def inactive_url(self) -> str:
        return self.url("inactive")

    @property
    def tab_page_prefix(self) -> str:
        return f"{self.tab_url}?page="

    @property
    def list_page_prefix(self) -> str:
        return f"{self.list_url}?page="

    @property
    def inactive_page_prefix(self) -> str:
        return f"{self.inactive_url}?page="

    @property
    def retention(self) -> str:
        """How long an ended token stays listed, in words (``TOKEN_RETENTION``)."""
        return describe_duration(str(settings.TOKEN_RETENTION))

    def token_url(self, name: str) -> Callable[[PersonalAccessToken], str]:
        """``url(name, token_id=…)`` for each token of a page, reversed once: the URL resolver's work is the
        same for every row but the token's uuid, which is the URL's last part (after the owner's login)."""
        placeholder = str(uuid.UUID(int=0))
        head, _, tail = self.url(name, token_id=placeholder).rpartition(placeholder)
        return lambda token: f"{head}{token.uuid}{tail}"

    def rows(self, tokens: list[PersonalAccessToken]) -> list[TokenRow]:
        return token_rows(tokens, self.token_url("delete"), self.token_url("rotate"), self.token_url("details"))

    @property
    def layout(self) -> str:
        return "tokens/mine.html" if self.mine else "people/user.html"


def _pages(request: HttpRequest, login: str | None) -> TokenPages:
    owner, mine = page_owner(request, login)
    return TokenPages(owner=owner, mine=mine)


def _list_context(pages: TokenPages, raw_page: str | None) -> dict[str, Any]:
    """One page of live tokens: a COUNT and a LIMITed query, whatever the number of tokens."""
    now = timezone.now()
    page = page_of(live_tokens(pages.owner, now), raw_page, PAGE_SIZE)
    rows = pages.rows(list(page.object_list))
    return {
        "pages": pages,
        "owner": pages.owner,
        "person": pages.owner,
        "page": page,
        "rows": rows,
        # Only asked when nothing is live, to tell "none yet" from "all expired".
        "has_inactive": not rows and inactive_tokens(pages.owner, now).exists(),
        "layout": pages.layout,
        "current_tab": "tokens",
    }


def _inactive_context(pages: TokenPages, raw_page: str | None) -> dict[str, Any]:
    page = page_of(inactive_tokens(pages.owner, timezone.now()), raw_page, PAGE_SIZE)
    return {"inactive_page": page, "inactive_rows": pages.rows(list(page.object_list))}


@require_safe
@login_required
def tab(request: HttpRequest, login: str | None = None) -> HttpResponse:
    pages = _pages(request, login)
    context = _list_context(pages, request.GET.get("page"))
    if reveal.SESSION_KEY not in request.session:
        return render_page(request, "tokens/tab.html", "tab-panel", context)
    # The GET after a create or rotate without JavaScript: the secret once, in a page no cache keeps.
    kept = reveal.take(request, pages.owner)
    if kept is not None:
        context.update(_reveal_context(request, kept))
    response = render_page(request, "tokens/tab.html", "tab-panel", context)
    if reveal.SESSION_KEY not in request.session:
        # Shown, or found stale: the pad goes too. A reveal kept for another tab keeps it.
        reveal.forget(response)
    add_never_cache_headers(response)
    return response


@require_safe
@login_required
def token_list(request: HttpRequest, login: str | None = None) -> HttpResponse:
    """The list alone, refreshed by htmx when ``tokensChanged`` fires; without htmx, the whole tab."""
    pages = _pages(request, login)
    if not is_partial(request):
        return redirect(pages.tab_url)
    return render_page(request, "tokens/tab.html", "token-list", _list_context(pages, request.GET.get("page")))


@require_safe
@login_required
def inactive(request: HttpRequest, login: str | None = None) -> HttpResponse:
    """The expired tokens, a page at a time: the fragment for htmx, else the tab with this list opened."""
    pages = _pages(request, login)
    context = _inactive_context(pages, request.GET.get("page"))
    if is_partial(request):
        context.update(pages=pages, owner=pages.owner)
        return render_page(request, "tokens/tab.html", "inactive-list", context)
    context.update(_list_context(pages, None))
    return render_page(request, "tokens/tab.html", "tab-panel", context)


@require_safe
@login_required
def details(request: HttpRequest, token_id: uuid.UUID, login: str | None = None) -> HttpResponse:
    """What a row expands to (last use, recent uses, end, origin, scopes): the fragment htmx puts into the row,
    or a page of its own without JavaScript."""
    pages = _pages(request, login)
    # The owner is part of the lookup: a crafted URL naming someone else's token finds nothing.
    token = get_object_or_404(
        PersonalAccessToken.objects.select_related("created_by"), uuid=token_id, owner=pages.owner
    )
    context = {
        "pages": pages,
        "owner": pages.owner,
        "person": pages.owner,
        "token": token,
        "row": pages.rows([token])[0],
        "layout": pages.layout,
        "current_tab": "tokens",
    }
    return render_page(request, "tokens/details.html", "token-details", context)


def _create_context(pages: TokenPages, form: TokenForm, in_dialog: bool) -> dict[str, Any]:
    chosen = form.chosen if form.is_bound else {}
    return {
        "pages": pages,
        "owner": pages.owner,
        "form": form,
        "in_dialog": in_dialog,
        "units": [(key, name) for key, (name, _size) in UNITS.items()],
        "models": [(key, name, MODEL_HINTS[key]) for key, name in PersonalAccessToken.MODELS],
        "protocols": list(PROTOCOLS.items()),
        "manages": MANAGES,
        "roots": picker.workspace_roots(pages.owner, chosen),
        "chosen_below": picker.chosen_below_roots(pages.owner, chosen),
        "policy": policy_hints(pages.owner),
        "presets": PRESET_DAYS,
        "zone": timezone.get_current_timezone_name(),
        "preview": expiry_preview(form["duration"].value(), form["unit"].value()),
        "auto": form["expiration_model"].value() == PersonalAccessToken.AUTO_REFRESH,
    }


def _reveal_context(request: HttpRequest, kept: reveal.Reveal) -> dict[str, Any]:
    token = kept.token
    return {
        **reveal.reveal_context(request, kept),
        "model_label": expiration_label(token),
        # Only the uses its protocol scopes allow.
        "on_rest": token.scope_set.allows_protocol(REST),
        "on_dav": token.scope_set.allows_protocol(WEBDAV),
        "on_s3": token.scope_set.allows_protocol(S3),
        "s3_secret": settings.S3_GATEWAY_SECRET,
    }


def _revealed(request: HttpRequest, pages: TokenPages, kept: reveal.Reveal, message: str) -> HttpResponse:
    """After Generate or Rotate. With htmx: the dialog closes and the panel with the secret takes its place on
    the tab. Without: the secret is held for the tab, which the browser is sent to (Post/Redirect/Get)."""
    if not is_partial(request):
        moved = redirect(pages.tab_url)
        moved.status_code = 303  # See Other: the browser GETs the tab, and a reload never posts again
        reveal.keep(request, moved, kept)
        return moved
    context = {"pages": pages, "owner": pages.owner, **_reveal_context(request, kept)}
    response = render(request, "tokens/_reveal.html", context)
    add_never_cache_headers(response)
    reswap(retarget(response, "#reveal-slot"), "innerHTML")
    # The dialog closes once the panel is in place, so that focus can go to the secret (console.js).
    trigger_client_event(response, CLOSE_DIALOG, after="settle")
    trigger_client_event(response, TOKENS_CHANGED, {"message": message})
    return response


@require_http_methods(["GET", "POST"])
@login_required
@never_cache
def create(request: HttpRequest, login: str | None = None) -> HttpResponse:
    """The create dialog (htmx) or page (without JavaScript). Invalid input comes back inside it with 200; success
    shows the token once and fires ``tokensChanged``. never_cache: the response carries a secret."""
    pages = _pages(request, login)
    partial = is_partial(request)
    if request.method == "GET":
        form = TokenForm(owner=pages.owner, can_manage=signed_in_user(request).is_admin)
        context = _create_context(pages, form, partial)
        # Without JavaScript a folder of the picker opens through a link: the page again, with that folder.
        if "open" in request.GET:
            context["opened"] = _folder_children(request, pages.owner, request.GET.get("open"))
        return render_page(request, "tokens/create.html", "dialog", context)

    form = TokenForm(request.POST, owner=pages.owner, can_manage=signed_in_user(request).is_admin)
    issued = (
        form.issue(created_by=signed_in_user(request), ip=request.META.get("REMOTE_ADDR")) if form.is_valid() else None
    )
    if issued is None:
        return render_page(request, "tokens/create.html", "dialog-body", _create_context(pages, form, partial))
    token, raw = issued
    logger.info("token %s issued for %s by %s via console", token.lookup_id, pages.owner.login, request.user)
    return _revealed(
        request, pages, reveal.Reveal(token=token, raw=raw, action="created"), f"Token “{token.label}” created."
    )


def _folder_children(request: HttpRequest, owner: User, raw_id: str | None) -> picker.Children | None:
    """The batch of a folder's children a request names (``offset``, ``q``), or None for what the owner cannot
    list, so the picker is no way to probe the tree."""
    try:
        node_id = uuid.UUID(raw_id or "")
    except ValueError:
        return None
    node = Node.objects.select_related("workspace").filter(uuid=node_id).first()
    if node is None:
        return None
    return picker.children(
        owner,
        node,
        offset=picker.batch_offset(request.GET.get("offset")),
        query=picker.search_text(request.GET.get("q")),
    )


@require_safe
@login_required
def scope_children(request: HttpRequest, login: str | None = None) -> HttpResponse:
    """One folder (``?parent=<uuid>``) of the owner's tree for the scope picker, a batch at a time; 404 for what
    the owner cannot list. Opening a folder gets its first batch (with a search box when there are more);
    a search (``q``) or "Show more" (``offset``) gets the matching batch alone."""
    pages = _pages(request, login)
    batch = _folder_children(request, pages.owner, request.GET.get("parent"))
    if batch is None:
        raise Http404
    opening = "q" not in request.GET and batch.offset == 0
    context = {"pages": pages, "owner": pages.owner, "batch": batch, "opening": opening}
    return render_page(request, "tokens/create.html", "scope-children", context)


@require_http_methods(["GET", "POST"])
@login_required
@never_cache
def rotate(request: HttpRequest, token_id: uuid.UUID, login: str | None = None) -> HttpResponse:
    """GET: the confirmation (dialog or page). POST: replace the token by a new secret with the same settings,
    shown once as on create; the old secret is refused from the next request on. never_cache: the response
    carries a secret."""
    pages = _pages(request, login)
    # The owner is part of the lookup: a crafted URL naming someone else's token finds nothing.
    token = get_object_or_404(PersonalAccessToken.objects.select_related("owner"), uuid=token_id, owner=pages.owner)
    context: dict[str, Any] = {
        "pages": pages,
        "owner": pages.owner,
        "token": token,
        "rotate_url": pages.url("rotate", token_id=token.uuid),
        "in_dialog": is_partial(request),
        "error": "A token that has expired or was deleted cannot be rotated; create a new one."
        if token.is_expired()
        else "",
    }
    if request.method == "GET":
        return render_page(request, "tokens/rotate.html", "dialog", context)

    try:
        new, raw, notice = token_rotate(
            token=token,
            actor=signed_in_user(request),
            via=PersonalAccessToken.VIA_CONSOLE,
            ip=request.META.get("REMOTE_ADDR"),
        )
    except TokenError as error:
        context["error"] = str(error)
        return render_page(request, "tokens/rotate.html", "dialog-body", context)
    logger.info(
        "token %s of %s rotated to %s by %s via console",
        token.lookup_id,
        pages.owner.login,
        new.lookup_id,
        request.user,
    )
    kept = reveal.Reveal(token=new, raw=raw, action="rotated", notice=notice)
    return _revealed(request, pages, kept, f"Token “{new.label}” rotated.")


@require_http_methods(["GET", "POST"])
@login_required
def delete(request: HttpRequest, token_id: uuid.UUID, login: str | None = None) -> HttpResponse:
    """GET: the confirmation (dialog or page), with an optional reason. POST: delete; the next request with the
    token is refused."""
    pages = _pages(request, login)
    # The owner is part of the lookup: a crafted URL naming someone else's token finds nothing.
    token = get_object_or_404(PersonalAccessToken, uuid=token_id, owner=pages.owner)
    form = ReasonForm(request.POST if request.method == "POST" else None)
    if not form.is_valid():
        context = {
            "pages": pages,
            "owner": pages.owner,
            "token": token,
            "form": form,
            "delete_url": pages.url("delete", token_id=token.uuid),
            "in_dialog": is_partial(request),
        }
        if request.method == "GET":
            return render_page(request, "tokens/delete.html", "dialog", context)
        # The form swaps nothing on success (the dialog closes); a refused reason comes back inside it.
        response = render_page(request, "tokens/delete.html", "dialog-body", context)
        return reswap(retarget(response, "#delete-body"), "outerHTML")

    token_delete(
        token=token,
        actor=signed_in_user(request),
        via=PersonalAccessToken.VIA_CONSOLE,
        reason=form.cleaned_data["reason"],
        ip=request.META.get("REMOTE_ADDR"),
    )
    logger.info("token %s of %s deleted by %s via console", token.lookup_id, pages.owner.login, request.user)
    if not is_partial(request):
        return redirect(pages.tab_url)
    response = HttpResponse(status=200)
    trigger_client_event(response, TOKENS_CHANGED, {"message": f"Token “{token.label}” deleted."})
    trigger_client_event(response, CLOSE_DIALOG)
    return response
