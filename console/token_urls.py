"""The Personal Access Tokens tab. Included twice (see console/urls.py): ``people-tokens`` takes the owner's
login from the URL (administrators only), ``my-tokens`` acts on the signed-in user."""

from __future__ import annotations

from django.urls import path

from console import tokens

urlpatterns = [
    path("", tokens.tab, name="tab"),
    path("list/", tokens.token_list, name="list"),
    path("inactive/", tokens.inactive, name="inactive"),
    path("new/", tokens.create, name="create"),
    path("nodes/", tokens.scope_children, name="scope-children"),
    path("<uuid:token_id>/details/", tokens.details, name="details"),
    path("<uuid:token_id>/rotate/", tokens.rotate, name="rotate"),
    path("<uuid:token_id>/delete/", tokens.delete, name="delete"),
]
