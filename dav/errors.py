"""How a WebDAV error reads: plain text, its status and, when the client's request is refused, why. A server
error says nothing but its status; the exception goes to the log.

WsgiDAV writes some error pages itself: for what a provider raises inside COPY, MOVE, DELETE and PROPPATCH,
which it catches and answers on the spot, as HTML that names WsgiDAV and, for a server error, shows the
exception. :class:`Refusal` renders as ours wherever it is rendered, and :func:`shielded` (on the resource
methods WsgiDAV calls there) turns anything else raised into a logged, bare ``Refusal(500)``, or a 503 with
Retry-After when the database cannot answer now (:func:`server_error`).

:class:`ClientRefusals` keeps the refusals out of WsgiDAV's error log. ``cellsadmin.settings.LOGGING`` names it,
and logging is configured before Django's apps are loaded: nothing this module imports may import a model.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

from wsgidav.dav_error import (
    ERROR_DESCRIPTIONS,
    HTTP_BAD_REQUEST,
    HTTP_CONFLICT,
    HTTP_FORBIDDEN,
    HTTP_INSUFFICIENT_STORAGE,
    HTTP_INTERNAL_ERROR,
    HTTP_LENGTH_REQUIRED,
    HTTP_PRECONDITION_FAILED,
    HTTP_REQUEST_ENTITY_TOO_LARGE,
    HTTP_SERVICE_UNAVAILABLE,
    DAVError,
    get_http_status_string,
)

from files import errors
from lib import unavailable

logger = logging.getLogger(__name__)

# WsgiDAV writes each property's status in a PROPPATCH answer from this table, which lacks 507 (a property the
# server will not store: dav.properties); without it the line would read "507 Status".
ERROR_DESCRIPTIONS.setdefault(HTTP_INSUFFICIENT_STORAGE, "507 Insufficient Storage")

F = TypeVar("F", bound=Callable[..., Any])


def status_line(error: DAVError) -> str:
    """``503 Service Unavailable``: WsgiDAV's reason phrase where it has one, else the standard one (WsgiDAV
    knows no 503 and would say ``503 Status``)."""
    status: str = get_http_status_string(error)
    if status != f"{error.value} Status":
        return status
    try:
        return f"{error.value} {HTTPStatus(error.value).phrase}"
    except ValueError:  # no standard status either
        return status


def error_page(error: DAVError) -> tuple[str, bytes]:
    """(content type, body) of the answer to ``error``."""
    if error.err_condition:
        return "application/xml; charset=utf-8", error.err_condition.as_string().encode()
    status = status_line(error)
    # A refusal of the client's request says why (our own reasons, or WsgiDAV's about the request itself);
    # a server error never says more than its status.
    reason = error.context_info if 400 <= error.value < 500 and error.context_info else ""
    return "text/plain; charset=utf-8", (status + "\n" + (f"{reason}\n" if reason else "")).encode()


class Refusal(DAVError):  # type: ignore[misc]
    """A DAVError whose page is :func:`error_page`, also where WsgiDAV renders it."""

    def get_response_page(self) -> tuple[str, bytes]:
        return error_page(self)


def shielded(method: F) -> F:
    """For resource methods whose exceptions WsgiDAV answers itself: a DAVError keeps its status (and reads
    as ours), anything else is logged and answered with a bare 500."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except Refusal:
            raise
        except DAVError as error:
            raise Refusal(
                error.value,
                context_info=error.context_info,
                err_condition=error.err_condition,
                add_headers=error.add_headers,
            ) from None
        except Exception as error:
            logger.exception("WebDAV %s failed", method.__qualname__)
            raise server_error(error) from None

    return wrapper  # type: ignore[return-value]


def server_error(error: Exception) -> Refusal:
    """What an unexpected exception is answered with: 503 with Retry-After when the database cannot answer now
    (``lib.unavailable``), else a bare 500."""
    if unavailable.is_unavailable(error):
        return Refusal(HTTP_SERVICE_UNAVAILABLE, add_headers=[("Retry-After", str(unavailable.RETRY_AFTER))])
    return Refusal(HTTP_INTERNAL_ERROR)


class ClientRefusals(logging.Filter):
    """Drops WsgiDAV's ``PUT: byte copy failed`` (logged with a traceback at ERROR) when what failed was a
    refusal the client is answered with: over the size limit (413), a changed version (412), a lock (423).
    Those are answers, not failures; a server error still logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not (isinstance(error, DAVError) and 400 <= error.value < 500)


def forbidden(reason: str) -> DAVError:
    return Refusal(HTTP_FORBIDDEN, context_info=reason)


def node_error(error: errors.NodeError) -> DAVError:
    if isinstance(error, errors.UploadTooLarge):
        return Refusal(HTTP_REQUEST_ENTITY_TOO_LARGE, context_info=str(error))
    if isinstance(error, errors.NameTaken | errors.ConcurrentChange):
        return Refusal(HTTP_CONFLICT, context_info=str(error))
    if isinstance(error, errors.PreconditionFailed):
        return Refusal(HTTP_PRECONDITION_FAILED, context_info=str(error))
    if isinstance(error, errors.LengthRequired):
        return Refusal(HTTP_LENGTH_REQUIRED, context_info=str(error))
    return Refusal(HTTP_BAD_REQUEST, context_info=str(error))
