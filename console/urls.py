"""The console's pages. The token pages exist twice: for any user under People (administrators) and for
oneself under /me/."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path

from console import instance, locks, login, people, time_zones

urlpatterns = [
    path("", people.home, name="home"),
    path("login/", login.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("people/", people.people_list, name="people-list"),
    path("people/<str:login>/", people.profile, name="people-profile"),
    path("people/<str:login>/tokens/", include(("console.token_urls", "tokens"), namespace="people-tokens")),
    path("people/<str:login>/locks/", locks.locks_tab, name="people-locks"),
    path("people/<str:login>/locks/release/", locks.release_lock, name="people-lock-release"),
    path("me/tokens/", include(("console.token_urls", "tokens"), namespace="my-tokens")),
    path("me/locks/", locks.locks_tab, name="my-locks"),
    path("me/locks/release/", locks.release_lock, name="my-lock-release"),
    path("me/preferences/", time_zones.preferences, name="my-preferences"),
    # Every token of the instance, the audit trail and the policy (administrators only).
    path("tokens/", instance.inventory, name="token-inventory"),
    path("tokens/delete/", instance.bulk_delete, name="token-bulk-delete"),
    path("audit/", instance.audit, name="audit"),
    path("policy/", instance.policy, name="policy"),
]
