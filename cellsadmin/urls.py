from __future__ import annotations

from django.urls import include, path, re_path

from api.api import api, not_found

# A database that cannot answer is a 503 with Retry-After, anything else Django's plain 500; JSON under /api/.
handler400 = "api.api.bad_request"
handler403 = "api.api.permission_denied"
handler500 = "lib.unavailable.server_error"

urlpatterns = [
    path("", include("console.urls")),
    # The REST API; anything else under /api/ is a JSON 404.
    path("api/v1/", api.urls),
    re_path(r"^api/", not_found),
]
