"""The WsgiDAV provider over the ``files`` tree: path → resource, and the per-request policy.

Per request: the principal's rights are loaded once, resources are cached by path (WsgiDAV asks for the same
path several times) and forgotten after every write.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from wsgidav import util
from wsgidav.dav_error import (
    HTTP_BAD_REQUEST,
    HTTP_FORBIDDEN,
    HTTP_NOT_FOUND,
    HTTP_REQUEST_ENTITY_TOO_LARGE,
    DAVError,
    PRECONDITION_CODE_PropfindFiniteDepth,
)
from wsgidav.dav_provider import DAVProvider

from dav import properties, propfind, xml_body
from dav.auth import lock_principal, principal_of
from dav.errors import forbidden, node_error
from dav.resources import CLIENT_MTIME, FileResource, FolderResource, NodeResourceMixin, WorkspaceList
from dav.tree_changes import COPIED_TO_NEW
from files import downloads, paths, uploads
from files.conditions import modified_second
from files.errors import NodeError
from files.locks import ordering, storage, write_guard
from files.models import Node
from files.rights import Access, Rights, rights_for
from lib import rows

Environ = dict[str, Any]
StartResponse = Callable[..., Any]

_RIGHTS = "cellsadmin.rights"
_RESOURCES = "cellsadmin.resources"
# The methods If-Modified-Since applies to.
_READS = frozenset({"GET", "HEAD"})
# Requests that create or replace what their URL names, and so look at its parent folder too.
_WANT_PARENT = frozenset({"PUT", "MKCOL"})


def _key(path: str) -> str:
    return path.rstrip("/") or "/"


# The newest time a file can have: the end of year 9999, as a datetime can hold it.
_LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()
_SECONDS = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,9})?")


def client_mtime(header: str) -> datetime:
    """``X-OC-Mtime`` (the ownCloud and Nextcloud clients', and rclone's with ``--webdav-vendor owncloud``): the
    file's own modification time in seconds since 1970, which the upload keeps instead of the time it arrived.
    Anything but a number of seconds within years 1970 to 9999 is a 400, before the body is read."""
    text = header.strip()
    seconds = float(text) if _SECONDS.fullmatch(text) else math.nan  # ASCII digits only, as float() is not
    if not 0 <= seconds <= _LATEST:  # also NaN
        raise DAVError(HTTP_BAD_REQUEST, "X-OC-Mtime must be the seconds since 1970 (UTC) of the file's modification.")
    return datetime.fromtimestamp(seconds, UTC)


def _created_if_new(environ: Environ, start_response: StartResponse) -> StartResponse:
    """WsgiDAV answers every COPY a provider carries out itself with 204; RFC 4918 §9.8.5 wants 201 when the
    destination did not exist before."""

    def answer(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if environ.get(COPIED_TO_NEW) and status.startswith("204"):
            status = "201 Created"
        return start_response(status, headers, exc_info)

    return answer


def _mtime_accepted(start_response: StartResponse) -> StartResponse:
    """As ownCloud answers an upload that kept the client's time: ``X-OC-MTime: accepted``."""

    def accepted(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if status.startswith("2"):
            headers = [*headers, ("X-OC-MTime", "accepted")]
        return start_response(status, headers, exc_info)

    return accepted


def _empty_file_unsatisfiable(start_response: StartResponse) -> StartResponse:
    """WsgiDAV sends an empty file whole, whatever its Range: the 200 it sends is a 416 here, as for the REST
    API (the body is as empty either way)."""

    def refuse(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if status.startswith("200"):
            status = "416 Range Not Satisfiable"
            headers = [*headers, ("Content-Range", "bytes */0")]
        return start_response(status, headers, exc_info)

    return refuse


class Provider(DAVProvider):  # type: ignore[misc]
    def __repr__(self) -> str:
        return "cellsadmin files"

    def is_readonly(self) -> bool:
        return False

    def rights(self, environ: Environ) -> Rights:
        rights = environ.get(_RIGHTS)
        if rights is None:
            principal = principal_of(environ)
            rights = environ[_RIGHTS] = rights_for(principal.user, principal.scopes)
        assert isinstance(rights, Rights)
        return rights

    def forget(self, environ: Environ) -> None:
        """Drop the cached resources: the tree has changed."""
        environ.pop(_RESOURCES, None)

    def _cache(self, environ: Environ) -> dict[str, Any]:
        cache: dict[str, Any] = environ.setdefault(_RESOURCES, {})
        return cache

    def resource_for(self, path: str, environ: Environ, node: Node) -> NodeResourceMixin:
        access = self.rights(environ).access(node)
        resource: NodeResourceMixin
        if node.is_folder:
            resource = FolderResource(_key(path), environ, node, access)
        else:
            resource = FileResource(_key(path), environ, node, access)
        self._cache(environ)[_key(path)] = resource
        return resource

    def get_resource_inst(self, path: str | None, environ: Environ) -> WorkspaceList | NodeResourceMixin | None:
        if path is None:  # the parent of "/" (PUT or MKCOL on the top level)
            return None
        key = _key(path)
        cache = self._cache(environ)
        if key in cache:
            return cache[key]  # type: ignore[no-any-return]
        if key == "/":
            cache[key] = WorkspaceList(environ)
            return cache[key]  # type: ignore[no-any-return]
        # Not util.get_uri_parent: it strips white space, and takes "/ " (a request for /dav/%20) for the root.
        parent_key = key.rsplit("/", 1)[0] or "/"
        if environ["REQUEST_METHOD"] in _WANT_PARENT and key == _key(environ["PATH_INFO"]) and parent_key != "/":
            # WsgiDAV asks for the parent next (where the file or folder goes): both in one query.
            node, parent = paths.resolve_paths([key, parent_key], rights=self.rights(environ))
            if node is not None and parent is not None and node.parent_id == parent.pk:
                rows.attach(node, "parent", parent)
            self._remember(parent_key, environ, parent)
        else:
            node = paths.resolve_path(key, rights=self.rights(environ))
        return self._remember(key, environ, node)

    def _remember(self, key: str, environ: Environ, node: Node | None) -> NodeResourceMixin | None:
        resource = None
        # Whatever the rights give no access to does not exist for this principal: 404, no hint.
        if node is not None and self.rights(environ).access(node):
            resource = self.resource_for(key, environ, node)
        self._cache(environ)[key] = resource
        return resource

    def custom_request_handler(
        self, environ: Environ, start_response: StartResponse, default_handler: Callable[..., Iterable[bytes]]
    ) -> Iterable[bytes]:
        environ["wsgidav.user_name"] = lock_principal(principal_of(environ))
        method = environ["REQUEST_METHOD"]
        # Every body but a PUT's is XML or nothing: bounded before anything reads it.
        body = xml_body.bound(environ) if method != "PUT" else None
        if method not in _READS:
            # RFC 9110 §13.1.3: If-Modified-Since is for GET and HEAD only; WsgiDAV would answer a PUT with 304.
            environ.pop("HTTP_IF_MODIFIED_SINCE", None)
        elif "HTTP_RANGE" in environ:
            start_response = self._read_range(environ, start_response)
        if method == "PROPFIND":
            if environ.get("HTTP_DEPTH", "infinity") == "infinity":
                # RFC 4918 §9.1 lets a server refuse a whole-tree listing; a tree can be large and every node
                # would be a rights decision. Clients (rclone, litmus, davfs2) walk with Depth 1.
                if self.get_resource_inst(environ["PATH_INFO"], environ) is None:
                    raise DAVError(HTTP_NOT_FOUND)
                raise DAVError(HTTP_FORBIDDEN, err_condition=PRECONDITION_CODE_PropfindFiniteDepth)
            with storage.snapshot():
                answered = propfind.propfind(self, environ, start_response)
                if answered is not None:
                    return answered
                return default_handler(environ, start_response)
        if method == "PUT":
            try:
                length = uploads.declared_length(environ)
            except NodeError as error:
                raise node_error(error) from None
            if length is not None and length > settings.MAX_UPLOAD_SIZE:
                raise DAVError(HTTP_REQUEST_ENTITY_TOO_LARGE)
            if "HTTP_X_OC_MTIME" in environ:
                environ[CLIENT_MTIME] = client_mtime(environ["HTTP_X_OC_MTIME"])
                start_response = _mtime_accepted(start_response)
            # WsgiDAV checks the locks over the folder and then over the file before the body is read: one
            # read answers both. The write checks them again where it takes place (another process may grant a
            # lock meanwhile); a small body without lock tokens is not worth refusing early, and skips the first.
            small = not write_guard.checked_before_body(length) and "HTTP_IF" not in environ
            with storage.snapshot(checked_at_write=small):
                return default_handler(environ, start_response)
        if method == "PROPPATCH":
            # One refusal for the whole request, rather than a 207 with a 403 per property.
            resource = self.get_resource_inst(environ["PATH_INFO"], environ)
            if isinstance(resource, WorkspaceList) or (resource is not None and Access.WRITE not in resource.access):
                raise DAVError(HTTP_FORBIDDEN)
            properties.refuse_too_many(body)
            # WsgiDAV's check of the locks and the property writes in one transaction that LOCK requests wait for:
            # none granted elsewhere lands between them.
            with transaction.atomic():
                ordering.hold_off_lock_requests()
                answer = default_handler(environ, start_response)
                if resource is not None:  # WsgiDAV worked on this very resource (cached by path for the request)
                    resource.save_dead_properties()
                return answer
        if method == "UNLOCK":
            # The token as WsgiDAV reads it, so that the lock checked is the one it releases.
            self._require_lock_holder(environ, environ.get("HTTP_LOCK_TOKEN", "").strip("<>"), releasing=True)
        if method == "LOCK":
            if not body:  # a refresh: the lock named by the If header
                util.parse_if_header_dict(environ)
                tokens = environ["wsgidav.ifLockTokenList"]
                if len(tokens) == 1:
                    self._require_lock_holder(environ, tokens[0], releasing=False)
            return self._lock(environ, start_response, default_handler)
        if method == "COPY":
            return default_handler(environ, _created_if_new(environ, start_response))
        return default_handler(environ, start_response)

    def _read_range(self, environ: Environ, start_response: StartResponse) -> StartResponse:
        """A GET's or HEAD's ``Range`` and ``If-Range`` as ``files.downloads`` reads them for the REST API too,
        handed to WsgiDAV as the one plain range it then serves (or none, for the whole file): its own reading
        sends the last of several ranges, the last bytes for ``bytes=10-5`` and an empty 206 for ``bytes=-0``.
        WsgiDAV still evaluates the request's conditions first (a 304 or 412 before any 416)."""
        resource = self.get_resource_inst(environ["PATH_INFO"], environ)
        if not isinstance(resource, FileResource):
            return start_response  # a 404, or a folder's 403, before WsgiDAV looks at Range
        node = resource.node
        header, if_range = environ.pop("HTTP_RANGE"), environ.pop("HTTP_IF_RANGE", None)
        try:
            wanted = downloads.requested_range(
                header, if_range, size=node.size, etag=downloads.quoted_etag(node), modified=modified_second(node)
            )
        except downloads.RangeNotSatisfiable:
            if node.size == 0:
                return _empty_file_unsatisfiable(start_response)
            environ["HTTP_RANGE"] = f"bytes={node.size}-"  # WsgiDAV's 416, with "Content-Range: bytes */<size>"
            return start_response
        if wanted is not None:
            environ["HTTP_RANGE"] = f"bytes={wanted.first}-{wanted.last}"
        return start_response

    def _require_lock_holder(self, environ: Environ, token: str, *, releasing: bool) -> None:
        """Whoever releases or refreshes a lock must own it (403). The owner with its own reach (a password, or a
        token without node scopes) may always release it, whatever it may write now: a grant turned read-only
        must not leave behind a lock that holds against everyone. Otherwise it takes write access where the lock
        is rooted, which can be above the URL the request names: a token narrowed by node scopes cannot end a
        lock its owner's other clients took over what the token may not write, and no lock is prolonged over
        what its owner may no longer write. Requests that name no lock over their URL are left to WsgiDAV."""
        lock = self.lock_manager.get_lock(token) if token else None
        resource = self.get_resource_inst(environ["PATH_INFO"], environ)
        if lock is None or resource is None or not util.is_equal_or_child_uri(lock["root"], resource.get_ref_url()):
            return
        if lock["principal"] != environ["wsgidav.user_name"]:
            raise forbidden("This lock was taken by another user.")
        if releasing and not self.rights(environ).is_scoped:
            return
        # The root is the URL or one of its folders, and so exists for whoever reaches the URL.
        root = self.get_resource_inst(self.ref_url_to_path(lock["root"]), environ)
        if not isinstance(root, NodeResourceMixin) or Access.WRITE not in root.access:
            raise forbidden("This lock holds what this token or account cannot write: it cannot release or refresh it.")

    def _lock(
        self, environ: Environ, start_response: StartResponse, default_handler: Callable[..., Iterable[bytes]]
    ) -> Iterable[bytes]:
        """LOCK as one serialised transaction: WsgiDAV checks for conflicts, then creates the lock; no other
        process may slip a lock in between. A LOCK that fails also takes back the empty file it created."""
        statuses: list[str] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            statuses.append(status)
            return start_response(status, headers, exc_info)

        with ordering.serialized():
            body = default_handler(environ, capture)
            if not statuses or not statuses[-1].startswith("2"):
                transaction.set_rollback(True)
        return body
