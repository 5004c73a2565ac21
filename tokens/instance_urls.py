"""The administrators' instance-wide token pages (see tokens/instance_views.py)."""

from __future__ import annotations

from django.urls import path

from tokens import instance_views

urlpatterns = [
    path("tokens/", instance_views.inventory, name="token-inventory"),
    path("tokens/delete/", instance_views.bulk_delete, name="token-bulk-delete"),
    path("audit/", instance_views.audit, name="audit"),
    path("policy/", instance_views.policy, name="policy"),
]
