"""The WsgiDAV application serving ``/dav/``, and the dispatcher that puts it beside Django.

WsgiDAV runs outside Django's request cycle, so the dispatcher does around each DAV request the database
housekeeping that Django's handler does around its own: stale connections are recycled before the request and
after the response has been sent (``close_old_connections``, which Django's docs name for ORM code outside a
request). It calls that directly rather than sending ``request_started`` and ``request_finished``: their other
receivers (the debug query log, cache and URLconf resets) have nothing to do for WsgiDAV, whose every request
would still pay for dispatching them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.db import close_old_connections
from wsgidav import util
from wsgidav.dav_error import (
    HTTP_INTERNAL_ERROR,
    HTTP_NO_CONTENT,
    HTTP_NOT_MODIFIED,
    DAVError,
)
from wsgidav.mw.base_mw import BaseMiddleware
from wsgidav.request_resolver import RequestResolver
from wsgidav.wsgidav_app import WsgiDAVApp

from dav.auth import BasicAuthenticator, DomainController
from dav.errors import error_page, server_error, status_line
from dav.provider import Provider
from files import media_types, services
from files.locks.storage import DatabaseLockManager, DatabaseLockStorage

logger = logging.getLogger(__name__)

MOUNT_PATH = "/dav"

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


class ErrorPages(BaseMiddleware):  # type: ignore[misc]
    """WsgiDAV's ErrorPrinter, minus the exception text it puts in 500 pages: turns a DAVError into its
    status, and anything else into a logged, bare 500."""

    def __init__(self, wsgidav_app: Any, next_app: WSGIApp, config: dict[str, Any]) -> None:
        super().__init__(wsgidav_app, next_app, config)

    def is_disabled(self) -> bool:
        return False

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        delayed = util.SubAppStartResponse()
        started = False
        try:
            for chunk in self.next_app(environ, delayed):
                if not started:
                    start_response(delayed.status, delayed.response_headers, delayed.exc_info)
                    started = True
                yield chunk
            if not started:
                start_response(delayed.status, delayed.response_headers, delayed.exc_info)
            return
        except DAVError as error:
            if started:
                raise
            if error.value == HTTP_INTERNAL_ERROR and error.src_exception is not None:
                # What WsgiDAV caught and wrapped itself (it has logged it): a PUT's body, a LOCK.
                error = server_error(error.src_exception)
            yield from _error_page(error, start_response)
        except Exception as error:
            logger.exception("WebDAV %s failed", environ.get("REQUEST_METHOD"))
            if started:
                raise
            yield from _error_page(server_error(error), start_response)


def _error_page(error: DAVError, start_response: StartResponse) -> Iterator[bytes]:
    status = status_line(error)
    if error.value in (HTTP_NOT_MODIFIED, HTTP_NO_CONTENT):
        start_response(status, [("Content-Length", "0")])
        yield b""
        return
    content_type, body = error_page(error)
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body))), *(error.add_headers or [])]
    start_response(status, headers)
    yield body


def make_dav_app() -> WsgiDAVApp:
    config = {
        # Hrefs and Destination headers carry the mount path; the share must be "/" (a named share breaks
        # COPY/MOVE in WsgiDAV 4.4, which resolves the Destination with the mount path still on it).
        "mount_path": MOUNT_PATH,
        "provider_mapping": {"/": Provider()},
        "middleware_stack": [ErrorPages, BasicAuthenticator, RequestResolver],
        "http_authenticator": {
            "domain_controller": DomainController,
            "accept_basic": True,
            "accept_digest": False,
            "default_to_digest": False,
            "trusted_auth_header": None,
        },
        "lock_storage": DatabaseLockStorage(),
        # Dead properties live on the nodes (dav.properties), not in a URL-keyed property manager.
        "property_manager": None,
        "dir_browser": {"enable": False},
        "logging": {"enable": False},
        "verbose": 1,
        "suppress_version_info": True,
        "add_header_MS_Author_Via": True,
        "hotfixes": {"re_encode_path_info": True, "unquote_path_info": False},
        # Uploads are read in the chunks files.services spools them in (WsgiDAV's default is 8 KiB).
        "block_size": services.CHUNK_SIZE,
    }
    app = WsgiDAVApp(config)
    # The same storage, behind a manager that checks a write against all the locks above it in one query.
    app.lock_manager = DatabaseLockManager(config["lock_storage"])
    for provider in app.provider_map.values():
        provider.set_lock_manager(app.lock_manager)
    return app


class _Closing:
    """The response iterable, with the connection clean-up Django does when a response is closed."""

    def __init__(self, iterable: Iterable[bytes], housekeeping: Callable[[], None]) -> None:
        self._iterable = iterable
        self._housekeeping = housekeeping

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._iterable)

    def close(self) -> None:
        try:
            close = getattr(self._iterable, "close", None)
            if close is not None:
                close()
        finally:
            self._housekeeping()


def _user_bytes_headers(start_response: StartResponse) -> StartResponse:
    """Every WebDAV response gets ``media_types.USER_BYTES_HEADERS``: a file opened at ``/dav/…`` in a browser
    is sandboxed, never a page of the console's origin. Also on 304s, whose headers a cache merges into the
    response it keeps, and on error pages and listings, which show names users chose."""

    def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        present = {name.lower() for name, _value in headers}
        extra = [(name, value) for name, value in media_types.USER_BYTES_HEADERS.items() if name.lower() not in present]
        return start_response(status, [*headers, *extra], exc_info)

    return start


class DavDispatcher:
    """``/dav`` and ``/dav/…`` go to WsgiDAV, everything else to Django."""

    def __init__(self, django_app: WSGIApp, dav_app: WSGIApp, prefix: str = MOUNT_PATH) -> None:
        self.django_app = django_app
        self.dav_app = dav_app
        self.prefix = prefix
        #: Run before each DAV request and after its response; tests whose transaction lives on the
        #: connection replace it, as they disconnect it from Django's request signals.
        self.housekeeping: Callable[[], None] = close_old_connections

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path != self.prefix and not path.startswith(self.prefix + "/"):
            return self.django_app(environ, start_response)
        environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + self.prefix
        environ["PATH_INFO"] = path[len(self.prefix) :] or "/"
        housekeeping = self.housekeeping
        housekeeping()
        try:
            return _Closing(self.dav_app(environ, _user_bytes_headers(start_response)), housekeeping)
        except BaseException:
            housekeeping()
            raise
