"""The gateway's WSGI application, and the dispatcher that sends it the requests signed for S3.

A request signed with SigV4 (``Authorization: AWS4-HMAC-SHA256 …``, or ``X-Amz-Credential`` in a presigned
URL's query) is the gateway's, whatever its path: ``GET /`` is then ListBuckets. Anything else goes on to the
console, the REST API and WebDAV as before. Like WebDAV, the gateway runs outside Django's request cycle and
does the database housekeeping Django's handler would (``close_old_connections``) around each request.

Each request: the signature is verified (``s3.signature``), the access key (a PAT) is authenticated through
``tokens.auth.authenticate`` on protocol ``S3``, then the operation runs (``s3.operations``). Failures are
S3 XML errors; the database, Redis or the object store out of reach is ``ServiceUnavailable`` (503); a
throttled client ``SlowDown`` (503).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.db import close_old_connections

from files.errors import IncompleteUpload, LengthRequired, Locked, NodeError, UploadTooLarge
from files.rights import rights_for
from lib.unavailable import RETRY_AFTER, is_unavailable
from s3 import multipart, operations, signature
from s3.errors import S3Error
from s3.operations import BUCKET, S3Request
from s3.responses import Response
from tokens.auth import S3, authenticate
from tokens.throttle import Throttled

logger = logging.getLogger(__name__)

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]
Operation = Callable[[S3Request], Response]

_STATUS = {
    200: "200 OK",
    204: "204 No Content",
    206: "206 Partial Content",
    304: "304 Not Modified",
    400: "400 Bad Request",
    403: "403 Forbidden",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    409: "409 Conflict",
    411: "411 Length Required",
    412: "412 Precondition Failed",
    416: "416 Range Not Satisfiable",
    500: "500 Internal Server Error",
    501: "501 Not Implemented",
    503: "503 Service Unavailable",
}

#: Sub-resources of the bucket or of an object that the gateway does not offer (yet): NotImplemented, never a
#: listing or a write that ignores them.
_UNSUPPORTED = {
    "acl",
    "tagging",
    "versioning",
    "versions",
    "policy",
    "lifecycle",
    "cors",
    "website",
    "logging",
    "notification",
    "replication",
    "encryption",
    "object-lock",
    "retention",
    "legal-hold",
    "attributes",
    "torrent",
    "restore",
    "select",
}


class S3Dispatcher:
    """Requests signed for S3 go to ``gateway``, all others to ``next_app``."""

    def __init__(self, next_app: WSGIApp, gateway: WSGIApp) -> None:
        self.next_app = next_app
        self.gateway = gateway

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if signature.is_sigv4(environ):
            return self.gateway(environ, start_response)
        return self.next_app(environ, start_response)


class Gateway:
    """The S3 gateway (bucket ``io``) as a WSGI application."""

    def __init__(self) -> None:
        #: Run before each request and after its response (as ``dav.app.DavDispatcher.housekeeping``).
        self.housekeeping: Callable[[], None] = close_old_connections

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        self.housekeeping()
        resource = environ.get("PATH_INFO", "/")
        try:
            response = self._respond(environ)
        except S3Error as error:
            response = _error(error, resource)
        except Throttled as throttled:
            response = _error(
                S3Error("SlowDown", "Too many failed attempts; slow down.", 503),
                resource,
                retry_after=throttled.retry_after,
            )
        except Exception as error:
            response = _failure(error, environ, resource)
        headers = [(name, value) for name, value in response.headers.items()]
        sized = "Content-Length" in response.headers or response.status in (204, 304)
        if not sized and isinstance(response.body, list):
            headers.append(("Content-Length", str(sum(len(part) for part in response.body))))
        start_response(_STATUS.get(response.status, f"{response.status} Error"), headers)
        body = response.body if environ.get("REQUEST_METHOD") != "HEAD" else []
        return _Closing(body, response.closing, self.housekeeping)

    def _respond(self, environ: Environ) -> Response:
        if signature.is_presigned(environ):
            raise S3Error.access_denied(
                "Presigned URLs are refused: they would put the access key, a personal access token, into URLs "
                "and logs. Sign requests with an Authorization header."
            )
        claim = signature.verify(environ)
        principal = authenticate(
            claim.access_key,
            protocol=S3,
            ip=environ.get("REMOTE_ADDR"),
            user_agent=environ.get("HTTP_USER_AGENT", ""),
        )
        if principal is None:
            raise S3Error(
                "InvalidAccessKeyId",
                "The access key is no valid personal access token for S3 (unknown, expired or revoked).",
                403,
            )
        bucket, key, query = operations.parse_target(environ)
        request = S3Request(
            environ=environ,
            claim=claim,
            rights=rights_for(principal.user, principal.scopes),
            method=environ.get("REQUEST_METHOD", "GET"),
            bucket=bucket,
            key=key,
            query=query,
        )
        return _operation(request)(request)


def _operation(request: S3Request) -> Operation:
    method = request.method
    if not request.bucket:
        if method in ("GET", "HEAD"):
            return operations.list_buckets
        raise S3Error("MethodNotAllowed", "Only GET is allowed here.", 405)
    if request.bucket != BUCKET:
        raise S3Error("NoSuchBucket", f"The only bucket is {BUCKET!r}.", 404)
    unsupported = _UNSUPPORTED & set(request.query)
    if unsupported:
        raise S3Error("NotImplemented", f"This gateway does not implement {', '.join(sorted(unsupported))} yet.", 501)
    if not request.key:
        bucket_operations: dict[str, Operation] = {
            "GET": _bucket_get(request),
            "HEAD": _bucket_exists,
            "PUT": _bucket_exists,  # CreateBucket of the one bucket, which rclone sends first
            "POST": operations.delete_objects if "delete" in request.query else _no_post,
        }
        found = bucket_operations.get(method)
    else:
        found = _object_operation(request)
    if found is None:
        raise S3Error("MethodNotAllowed", f"{method} is not allowed here.", 405)
    return found


def _bucket_get(request: S3Request) -> Operation:
    if "location" in request.query:
        return operations.bucket_location
    if "uploads" in request.query:
        return multipart.list_uploads
    return operations.list_objects


def _object_operation(request: S3Request) -> Operation | None:
    method, query = request.method, request.query
    if "uploadId" in query:
        return {
            "PUT": multipart.upload_part,
            "POST": multipart.complete,
            "DELETE": multipart.abort,
            "GET": multipart.list_parts,
        }.get(method)
    if "uploads" in query:
        return multipart.create if method == "POST" else None
    if method == "PUT" and "HTTP_X_AMZ_COPY_SOURCE" in request.environ:
        if "partNumber" in query:
            return None  # UploadPartCopy
        return operations.copy_object
    return {
        "GET": operations.get_object,
        "HEAD": operations.head_object,
        "PUT": operations.put_object,
        "DELETE": operations.delete_object,
    }.get(method)


def _bucket_exists(request: S3Request) -> Response:
    return Response()


def _no_post(request: S3Request) -> Response:
    raise S3Error("MethodNotAllowed", "POST is allowed here only for DeleteObjects (?delete).", 405)


def _error(error: S3Error, resource: str, *, retry_after: int | None = None) -> Response:
    headers = {"Content-Type": "application/xml", **error.headers}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return Response(status=error.status, body=[error.document(resource)], headers=headers)


def _failure(error: Exception, environ: Environ, resource: str) -> Response:
    """What the domain refused, as S3 errors; the database or store out of reach as 503; anything else a logged
    500 that says nothing of the error."""
    if isinstance(error, UploadTooLarge):
        return _error(S3Error("EntityTooLarge", str(error)), resource)
    if isinstance(error, IncompleteUpload):
        return _error(S3Error("IncompleteBody", str(error)), resource)
    if isinstance(error, LengthRequired):
        return _error(S3Error("MissingContentLength", str(error), 411), resource)
    if isinstance(error, Locked):
        return _error(S3Error("OperationAborted", str(error), 409), resource)
    if isinstance(error, NodeError):
        return _error(S3Error("InvalidArgument", str(error)), resource)
    if is_unavailable(error):
        logger.exception("S3 %s: a backing service cannot answer", environ.get("REQUEST_METHOD"))
        return _error(
            S3Error("ServiceUnavailable", "Please reduce your request rate.", 503), resource, retry_after=RETRY_AFTER
        )
    logger.exception("S3 %s failed", environ.get("REQUEST_METHOD"))
    return _error(S3Error("InternalError", "We encountered an internal error. Please try again.", 500), resource)


class _Closing:
    """The response's body, with what to close after it (an open file) and the connection housekeeping."""

    def __init__(self, body: Iterable[bytes], resource: object | None, housekeeping: Callable[[], None]) -> None:
        self._body = body
        self._resource = resource
        self._housekeeping = housekeeping

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        try:
            close = getattr(self._resource, "close", None)
            if close is not None:
                close()
        finally:
            self._housekeeping()
