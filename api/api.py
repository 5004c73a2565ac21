"""The REST API at ``/api/v1``: one NinjaAPI, the routers of the apps, and the error rules.

- 401 is JSON with ``WWW-Authenticate: Bearer realm="cellsadmin"``, plus ``error="invalid_token"`` when an
  ``Authorization`` header was sent (RFC 6750 §3.1: no error code when no credentials were given).
- A successful PAT-authenticated response carries ``Token-Expires-At`` (RFC 3339), so a script sees an Auto
  Refresh token slide and a Hard Limit approach.
- Tree errors from ``files.services`` map to statuses here, once: a taken name is 409, an over-size upload
  413, a write whose If-Match / If-None-Match fails 412, a write to what a WebDAV lock holds 423, any other
  refusal of the tree (a bad name, a folder into itself) 400.
- A database, cache or object store that cannot answer now is 503 with ``Retry-After`` (``lib.unavailable``).
- Whatever else goes wrong is left to Django (ninja re-raises it), whose error handlers answer JSON under
  ``/api/``: a JSON body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` 413, a suspicious request or a bad ``Host`` 400,
  a denial 403, any other exception 500 without its traceback (which Django logs). One place for the errors
  raised inside an endpoint and those raised before one is reached (a middleware's ``Host`` check).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError

from api.auth import REALM, InvalidToken, bearer_auth, session_auth
from files.services import Locked, NameTaken, NodeError, PreconditionFailed, UploadTooLarge
from files.uploads import LengthRequired
from lib import unavailable
from tokens.auth import Principal
from tokens.throttle import Throttled

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="cellsadmin",
    version="1",
    description="Files, people and tokens of cellsadmin. Authenticate with "
    "`Authorization: Bearer <personal access token>` (create one with `manage.py user_token`), or with the "
    "console's session and its CSRF token.",
    urls_namespace="api",
    auth=[bearer_auth, session_auth],
    # ninja's own bundled Swagger UI (static files of the "ninja" app): no CDN. No validator badge either,
    # which would otherwise send the document to validator.swagger.io.
    docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": True}),
    docs_url="/docs",
)


def _error(request: HttpRequest, status: int, detail: str) -> HttpResponse:
    return api.create_response(request, {"detail": detail}, status=status)


@api.exception_handler(InvalidToken)
def _invalid_token(request: HttpRequest, exc: InvalidToken) -> HttpResponse:
    response = _error(request, 401, str(exc))
    response["WWW-Authenticate"] = f'Bearer realm="{REALM}", error="invalid_token"'
    return response


@api.exception_handler(Throttled)
def _throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    response = _error(request, 429, str(exc))
    response["Retry-After"] = str(exc.retry_after)
    return response


def _unavailable(request: HttpRequest, exc: Exception | type[Exception]) -> HttpResponse:
    if not unavailable.is_unavailable(exc):  # type: ignore[arg-type]
        raise exc  # Django's handler500: a JSON 500
    logger.error("API %s %s: a store cannot answer", request.method, request.path, exc_info=exc)  # type: ignore[arg-type]
    response = _error(request, 503, unavailable.MESSAGE)
    response["Retry-After"] = str(unavailable.RETRY_AFTER)
    return response


for _unreachable in unavailable.UNAVAILABLE:
    api.add_exception_handler(_unreachable, _unavailable)


@api.exception_handler(AuthenticationError)
def _no_credentials(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _error(request, 401, "Authentication required: send 'Authorization: Bearer <personal access token>'.")
    response["WWW-Authenticate"] = f'Bearer realm="{REALM}"'
    return response


def _answered_with(status: int) -> Callable[[HttpRequest, Exception | type[Exception]], HttpResponse]:
    def handler(request: HttpRequest, exc: Exception | type[Exception]) -> HttpResponse:
        return _error(request, status, str(exc))

    return handler


# Tree and upload errors, each to its status (the most specific class wins, as ninja looks them up by MRO).
_REFUSALS: list[tuple[type[Exception], int]] = [
    (NodeError, 400),
    (NameTaken, 409),
    (LengthRequired, 411),
    (PreconditionFailed, 412),
    (UploadTooLarge, 413),
    (Locked, 423),
]
for _refusal, _status in _REFUSALS:
    api.add_exception_handler(_refusal, _answered_with(_status))


def rfc3339(moment: datetime) -> str:
    """UTC, whole seconds, ``Z``: rounded down, so a client never believes a token lives longer than it does."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _token_expiry_header(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wraps each operation's whole run (authentication included): ``request.auth`` is known afterwards."""

    @functools.wraps(run)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = run(request, *args, **kwargs)
        principal = getattr(request, "auth", None)
        if isinstance(principal, Principal) and principal.token is not None and 200 <= response.status_code < 400:
            response["Token-Expires-At"] = rfc3339(principal.token.expires_at)
        return response

    return wrapper


api.add_decorator(_token_expiry_header, mode="view")

api.add_router("", "api.me.router")
# The tree before the content: the order of the paths in the document.
api.add_router("", "api.nodes.router")
api.add_router("", "api.content.router")
api.add_router("", "api.tokens.router")


class JsonMethodNotAllowed:
    """Middleware: a method an API endpoint does not take is answered like every other API error, as JSON
    ``{"detail": …}`` (ninja answers it with a plain-text body), keeping the ``Allow`` header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 405 and request.path_info.startswith("/api/"):
            allowed = response.get("Allow", "")
            if "GET" in allowed.split(", ") and "HEAD" not in allowed:
                allowed += ", HEAD"  # api.head.HeadLikeGet
            response = JsonResponse({"detail": f"Method {request.method} not allowed; allowed: {allowed}."}, status=405)
            response["Allow"] = allowed
        return response


@csrf_exempt
def not_found(request: HttpRequest) -> HttpResponse:
    """Any other URL under /api/: JSON like the rest of the API, not the console's HTML 404 page. It changes
    nothing, so it needs no CSRF check: without the exemption a PUT or POST got Django's HTML 403 page."""
    return JsonResponse({"detail": "Not Found"}, status=404)


def _under_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's ``handler400`` (a suspicious request, a bad ``Host``, an over-size body): JSON under /api/."""
    if not _under_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        detail = f"The request body is larger than {limit} bytes; file contents go in a PUT of the raw bytes."
        return JsonResponse({"detail": detail}, status=413)
    return JsonResponse({"detail": "Bad request."}, status=400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's ``handler403``: JSON under /api/."""
    if not _under_api(request):
        return defaults.permission_denied(request, exception)
    return JsonResponse({"detail": "Permission denied."}, status=403)
