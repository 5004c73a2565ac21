"""The administrators' instance-wide token pages: the inventory of every token (with bulk delete), the audit trail
and the instance policy. Filters are GET forms, so every filtered page has a real URL."""

from __future__ import annotations

import logging
import uuid
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe
from django_htmx.http import reswap, retarget, trigger_client_event

from console.access import admin_required, is_partial, render_page, signed_in_user
from console.filters import AuditFilter, InventoryFilter
from console.forms import UNITS, ReasonForm, default_duration
from console.token_rows import ENDED, expiration_label, scope_kinds, status_class
from console.tokens import CLOSE_DIALOG, TOKENS_CHANGED
from lib.keyset import KeysetPage, keyset_page, row_id
from tokens.durations import DurationError, format_duration, parse_duration
from tokens.models import PersonalAccessToken
from tokens.services import REMINDER_DAYS, tokens_delete

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
#: Most tokens one bulk deletion takes (a page holds PAGE_SIZE).
MAX_BULK = 500


#: The query parameters that say which page, not what is listed.
PAGING = ("page", "before", "after")


def _filters_query(request: HttpRequest) -> str:
    """The page's filters as a query string, without the page's cursor."""
    query = request.GET.copy()
    for name in PAGING:
        query.pop(name, None)
    return query.urlencode()


def _page_links(request: HttpRequest, page: KeysetPage[Any]) -> dict[str, str]:
    """First / Older / Newer as query strings that keep the filters; absent where there is no such page."""
    filters = _filters_query(request)
    links = {}
    if page.newer is not None:
        links["first"] = f"?{filters}"
        links["newer"] = "?" + "&".join(part for part in (filters, urlencode({"after": page.newer})) if part)
    if page.older is not None:
        links["older"] = "?" + "&".join(part for part in (filters, urlencode({"before": page.older})) if part)
    return links


def _is_filtered(request: HttpRequest) -> bool:
    return any(value for key, value in request.GET.items() if key not in PAGING)


@require_safe
@admin_required
def inventory(request: HttpRequest) -> HttpResponse:
    """Every token of every user, filtered and paged in the database, newest first: a capped count, the page and
    whether newer tokens exist, whatever their number and however deep the page."""
    form = InventoryFilter(request.GET)
    page = keyset_page(
        form.tokens(),
        moment="created_at",
        key="uuid",
        size=PAGE_SIZE,
        before=request.GET.get("before"),
        after=request.GET.get("after"),
        parse_key=uuid.UUID,
    )
    rows = []
    for token in page.items:
        status = token.status
        rows.append(
            {
                "token": token,
                "model_label": expiration_label(token),
                "status": status,
                "status_class": status_class(status),
                "ended": status in ENDED,
                "usage_class": status_class(token.usage),
                "kinds": scope_kinds(token.scope_set),
            }
        )
    context = {
        "form": form,
        "page": page,
        "links": _page_links(request, page),
        "rows": rows,
        # The bulk deletion returns to this very page (its cursor included): the rows around it stay put.
        "filters": request.GET.urlencode(),
        "filtered": _is_filtered(request),
        "results_url": f"{reverse('token-inventory')}?{request.GET.urlencode()}",
    }
    return render_page(request, "tokens/inventory.html", "inventory-results", context)


def _chosen(values: list[str]) -> list[PersonalAccessToken]:
    ids = []
    for value in values[:MAX_BULK]:
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            continue
    if not ids:
        return []
    return list(
        PersonalAccessToken.objects.select_related("owner").filter(uuid__in=ids).order_by("owner__login", "label")
    )


def _back_url(data: QueryDict) -> str:
    """The inventory with the filters it was left with; re-encoded, so it can only ever be our own page."""
    back = QueryDict(data.get("filters", "")[:2000]).urlencode()
    return reverse("token-inventory") + (f"?{back}" if back else "")


@require_http_methods(["GET", "POST"])
@admin_required
def bulk_delete(request: HttpRequest) -> HttpResponse:
    """GET: confirm the deletion of the chosen tokens (``?token=<uuid>&token=…``), naming each. POST: delete them,
    each recorded in the audit trail with the reason."""
    data = request.POST if request.method == "POST" else request.GET
    tokens = _chosen(data.getlist("token"))
    form = ReasonForm(request.POST if request.method == "POST" else None)
    if request.method == "GET" or not tokens or not form.is_valid():
        context = {
            "tokens": tokens,
            "form": form,
            "filters": data.get("filters", ""),
            "back_url": _back_url(data),
            "in_dialog": is_partial(request),
        }
        if request.method == "GET":
            return render_page(request, "tokens/bulk_delete.html", "dialog", context)
        response = render_page(request, "tokens/bulk_delete.html", "dialog-body", context)
        return reswap(retarget(response, "#bulk-delete-body"), "outerHTML")

    count = tokens_delete(
        tokens=tokens,
        actor=signed_in_user(request),
        via=PersonalAccessToken.VIA_CONSOLE,
        reason=form.cleaned_data["reason"],
        ip=request.META.get("REMOTE_ADDR"),
    )
    logger.info("%d tokens deleted by %s via console: %s", count, request.user, " ".join(t.lookup_id for t in tokens))
    if not is_partial(request):
        return redirect(_back_url(data))
    response = HttpResponse(status=200)
    trigger_client_event(response, TOKENS_CHANGED, {"message": f"{count} token{'s' if count != 1 else ''} deleted."})
    trigger_client_event(response, CLOSE_DIALOG)
    return response


@require_safe
@admin_required
def audit(request: HttpRequest) -> HttpResponse:
    """The audit trail, newest first, paged like the inventory: at most three queries whatever its length."""
    form = AuditFilter(request.GET)
    page = keyset_page(
        form.events(),
        moment="at",
        key="id",
        size=PAGE_SIZE,
        before=request.GET.get("before"),
        after=request.GET.get("after"),
        parse_key=row_id,
    )
    context = {"form": form, "page": page, "links": _page_links(request, page), "filtered": _is_filtered(request)}
    return render_page(request, "tokens/audit.html", "audit-results", context)


def _setting_duration(name: str) -> str:
    """A duration setting as written (``90d``, not the canonical ``12w6d``), or a warning that it is broken."""
    text = str(getattr(settings, name)).strip()
    try:
        parse_duration(text)
    except DurationError:
        return f"{text} (not a valid duration)"
    return text


@require_safe
@admin_required
def policy(request: HttpRequest) -> HttpResponse:
    """The instance policy as read from the settings, with the environment variables that change it."""
    number, unit = default_duration()
    cooloff = settings.LOGIN_COOLOFF
    context: dict[str, Any] = {
        "max_lifetime": _setting_duration("TOKEN_MAX_LIFETIME"),
        "default_duration": _setting_duration("TOKEN_DEFAULT_DURATION"),
        "retention": _setting_duration("TOKEN_RETENTION"),
        "default_offered": f"{number} {UNITS[unit][0] if number != 1 else UNITS[unit][0].rstrip('s')}",
        "per_user": settings.TOKEN_MAX_PER_USER,
        "webdav_password": settings.WEBDAV_ALLOW_PASSWORD,
        "auth_failure_limit": settings.AUTH_FAILURE_LIMIT,
        "auth_failure_window": settings.AUTH_FAILURE_WINDOW,
        "login_failure_limit": settings.LOGIN_FAILURE_LIMIT,
        "login_cooloff": format_duration(cooloff) if cooloff else "",
        "reminder_days": REMINDER_DAYS,
    }
    return render(request, "tokens/policy.html", context)
