"""The console's People pages: the user list and a user's page (its tabs live with their apps)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET

from console.access import admin_required, render_page, signed_in_user
from people.models import User

PAGE_SIZE = 25


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Administrators land on People; everyone else on their own tokens."""
    return redirect("people-list" if signed_in_user(request).is_admin else "my-tokens:tab")


@require_GET
@admin_required
def people_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    users = User.objects.annotate(token_count=Count("tokens")).order_by("login")
    if query:
        users = users.filter(Q(login__icontains=query) | Q(display_name__icontains=query) | Q(email__icontains=query))
    page = Paginator(users, PAGE_SIZE).get_page(request.GET.get("page"))
    return render_page(request, "people/list.html", "people-results", {"page": page, "query": query})


@require_GET
@admin_required
def profile(request: HttpRequest, login: str) -> HttpResponse:
    person = get_object_or_404(User.objects.annotate(token_count=Count("tokens")), login__iexact=login)
    context = {"person": person, "layout": "people/user.html", "current_tab": "profile"}
    return render_page(request, "people/profile.html", "tab-panel", context)
