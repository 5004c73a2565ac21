"""The console's People pages: the user list and a user's page (its tabs live with their apps)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.db.models.functions import Lower
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_safe

from console.access import admin_required, render_page, signed_in_user
from console.paging import page_of
from people.models import User
from tokens.models import PersonalAccessToken

PAGE_SIZE = 25


@dataclass(frozen=True)
class ListedPerson:
    person: User
    token_count: int


@require_safe
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Administrators land on People; everyone else on their own tokens."""
    return redirect("people-list" if signed_in_user(request).is_admin else "my-tokens:tab")


@require_safe
@admin_required
def people_list(request: HttpRequest) -> HttpResponse:
    """One page of users: a COUNT, the page (LIMIT/OFFSET on the plain user rows, in the order of the unique
    index on the lowercased login) and the token counts of those rows only, whatever the number of users.

    The search matches part of the login, display name or e-mail, case-insensitively ("smith" finds "Jane
    Smith", "example.org" everyone there), as an administrator looking someone up expects; a prefix match
    could use an index but would miss surnames and domains. It scans the user table once for the count, which
    stays cheap at the sizes of a user directory; the page itself stops at its LIMIT."""
    query = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    users = User.objects.order_by(Lower("login"))
    if query:
        users = users.filter(Q(login__icontains=query) | Q(display_name__icontains=query) | Q(email__icontains=query))
    page = page_of(users, request.GET.get("page"), PAGE_SIZE)
    people = list(page.object_list)
    counts = dict(
        PersonalAccessToken.objects.filter(owner__in=[person.pk for person in people])
        .values_list("owner")
        .annotate(count=Count("pk"))
        .order_by()
    )
    rows = [ListedPerson(person=person, token_count=counts.get(person.pk, 0)) for person in people]
    prefix = f"?{urlencode({'q': query})}&page=" if query else "?page="
    context = {"page": page, "rows": rows, "query": query, "page_prefix": prefix}
    return render_page(request, "people/list.html", "people-results", context)


@require_safe
@admin_required
def profile(request: HttpRequest, login: str) -> HttpResponse:
    person = get_object_or_404(User.objects.annotate(token_count=Count("tokens")), login__iexact=login)
    context = {"person": person, "layout": "people/user.html", "current_tab": "profile"}
    return render_page(request, "people/profile.html", "tab-panel", context)
