from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path

from files import views as files_views
from people import views

# The token pages exist twice: for any user under People (administrators) and for oneself under /me/.
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("people/", views.people_list, name="people-list"),
    path("people/<str:login>/", views.profile, name="people-profile"),
    path("people/<str:login>/tokens/", include(("tokens.urls", "tokens"), namespace="people-tokens")),
    path("people/<str:login>/locks/", files_views.locks_tab, name="people-locks"),
    path("people/<str:login>/locks/release/", files_views.release_lock, name="people-lock-release"),
    path("me/tokens/", include(("tokens.urls", "tokens"), namespace="my-tokens")),
    path("me/locks/", files_views.locks_tab, name="my-locks"),
    path("me/locks/release/", files_views.release_lock, name="my-lock-release"),
    # Every token of the instance, the audit trail and the policy (administrators only).
    path("", include("tokens.instance_urls")),
]
