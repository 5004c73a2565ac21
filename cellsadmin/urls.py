from __future__ import annotations

from django.urls import include, path, re_path

from cellsadmin.api import api, not_found

urlpatterns = [
    path("", include("people.urls")),
    # REST API (SPEC §6); anything else under /api/ is a JSON 404.
    path("api/v1/", api.urls),
    re_path(r"^api/", not_found),
]
