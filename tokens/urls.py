"""The Personal Access Tokens tab. Included twice (see people/urls.py): ``people-tokens`` takes the owner's
login from the URL (administrators only), ``my-tokens`` acts on the signed-in user."""

from __future__ import annotations

from django.urls import path

from tokens import views

urlpatterns = [
    path("", views.tab, name="tab"),
    path("list/", views.token_list, name="list"),
    path("new/", views.create, name="create"),
    path("nodes/", views.scope_children, name="scope-children"),
    path("<uuid:token_id>/rotate/", views.rotate, name="rotate"),
    path("<uuid:token_id>/delete/", views.delete, name="delete"),
]
