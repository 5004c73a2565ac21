"""A database, Redis or the object store that cannot answer now is a 503 with ``Retry-After``, never a 500: for
the console, the REST API and WebDAV alike.

That is a database that is down or restarting (a connection refused or dropped), and one whose write lock
another writer held past the timeout (SQLite's "database is locked", PostgreSQL's lock timeouts and
deadlocks): Django raises ``OperationalError`` or ``InterfaceError`` for all of them. Likewise a Redis (the
cache, the failure throttle) that refuses the connection or times out. Nothing was written (the transaction
is rolled back). Likewise an object store (file contents) that refuses the connection, drops it, times out or
answers with a server error (5xx, such as S3's SlowDown): an upload it did not take changes nothing. In each
case the same request a few seconds later may well succeed, which is what 503 and
``Retry-After`` tell a client (rclone and the REST scripts retry on 503). The exception still goes to the log
with its traceback; the response says only that the service is unavailable.
"""

from __future__ import annotations

import sys

from botocore.exceptions import ClientError, HTTPClientError, IncompleteReadError
from botocore.exceptions import ConnectionError as StoreConnectionError
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

#: The exception classes that may say so; an object store's ``ClientError`` only with a 5xx status (a missing
#: object or a refused key is no outage): ask :func:`is_unavailable`.
UNAVAILABLE = (
    OperationalError,
    InterfaceError,
    RedisConnectionError,
    RedisTimeoutError,
    StoreConnectionError,
    HTTPClientError,
    IncompleteReadError,
    ClientError,
)

#: Seconds a client is asked to wait before it tries again.
RETRY_AFTER = 5
MESSAGE = "The service cannot reach its database, cache or file store just now; try again in a few seconds."


def is_unavailable(error: BaseException | None) -> bool:
    """Whether ``error`` says the database, Redis or the object store cannot answer now (not that a request or
    the code is wrong)."""
    if isinstance(error, ClientError):
        return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)) >= 500
    return isinstance(error, UNAVAILABLE)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's ``handler500``: 503 when what went wrong is the database, else Django's own 500 page, or under
    /api/ a JSON 500 that says nothing of the error (Django has logged its traceback). It renders no template: a
    template's context (the signed-in user) would ask the database again."""
    if not is_unavailable(sys.exc_info()[1]):
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": "Internal server error."}, status=500)
        return defaults.server_error(request)
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": MESSAGE}, status=503)
    else:
        page = f"<!DOCTYPE html><title>Service unavailable</title><h1>Service unavailable</h1><p>{MESSAGE}</p>"
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    return response
