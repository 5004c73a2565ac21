"""PROPFIND with Depth 0 or 1 on a folder or a file, answered from rows rather than from resource objects.

WsgiDAV answers a PROPFIND resource by resource and property by property, into an ElementTree it then
serialises: on a folder of 1,000 files that is some 10,000 property look-ups and 25,000 elements, several
times the cost of the listing itself. The common requests (``allprop``, an empty body, or a ``<prop>`` list of
the standard live properties and dead properties) are answered here instead, from the visible children (one
query, through ``Rights.visible_children``), their dead properties (one query) and the lock snapshot (one
query), and written out as text. A ``<prop>`` list that names no dead property skips the second, and one
without ``lockdiscovery`` the third: rclone's PROPFIND after each upload asks for four live properties.

The answer is the one WsgiDAV gives for the same request (``tests/dav/test_dav_listing.py`` compares the two).
Anything else (``propname``, ``If`` headers, the workspace list, properties such as the quotas) goes to
WsgiDAV's own handler.

Here: what the request body asks for, the entries (the rows, their dead properties and their locks) and each
entry's ``<response>``. The live properties are written by ``dav.live_properties``.
"""

from __future__ import annotations

import functools
import io
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from xml.sax.saxutils import escape

from wsgidav import util, xml_tools
from wsgidav.lock_man.lock_manager import normalize_lock_root

from dav.live_properties import LIVE, RENDER, Entry, LockDict, allprop_names, fragment, live_property
from dav.resources import FolderResource, NodeResourceMixin
from files import raw_sql
from files.models import Node

if TYPE_CHECKING:
    from dav.provider import Provider

Environ = dict[str, Any]
StartResponse = Callable[..., Any]

_CONDITIONS = ("HTTP_IF", "HTTP_IF_MATCH", "HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_UNMODIFIED_SINCE")
# WsgiDAV's get_href: Nautilus chokes on an encoded '(', so RFC 2068's "extra" and "safe" characters stay.
_HREF_SAFE = "/" + "!*'()," + "$-_|."
_OK = "HTTP/1.1 200 OK"
_NOT_FOUND = "HTTP/1.1 404 Not Found"
_ROW = ("uuid", "name", "path", "type", "size", "mtime", "created_at", "etag", "content_type")
# An attribute value as ElementTree's serialiser escapes it (saxutils.quoteattr writes a tab as &#9; and may
# choose single quotes).
_ATTRIBUTE_ENTITIES = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#09;"}

ALLPROP = "allprop"


def _requested_properties(environ: Environ) -> str | tuple[str, ...] | None:
    """What a PROPFIND body asks for: :data:`ALLPROP`, the property names of a ``<prop>`` list, or None for a
    request left to WsgiDAV's own handler (``propname``, a malformed body, a ``{DAV:}`` property outside
    ``dav.live_properties.LIVE``). Reads the body and puts it back for WsgiDAV to read again."""
    length_header = environ.get("CONTENT_LENGTH", "").strip()
    if not length_header:
        return ALLPROP
    try:
        length = int(length_header)
    except ValueError:
        return None
    if length <= 0:
        return ALLPROP if length == 0 else None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return _parsed(body) if len(body) <= _REMEMBERED_BODY else _parsed.__wrapped__(body)


#: A client sends the same PROPFIND body again and again (rclone after every upload): bodies up to this size
#: are parsed once per process (a few hundred of them at most, so a few hundred KiB).
_REMEMBERED_BODY = 2048


@functools.lru_cache(maxsize=256)
def _parsed(body: bytes) -> str | tuple[str, ...] | None:
    """The property names (or allprop) a PROPFIND body asks for; None for what is left to WsgiDAV."""
    try:
        root = xml_tools.etree.fromstring(body)  # defusedxml: no entities, no external references
    except Exception:
        return None  # WsgiDAV answers a malformed body with 400 when it reads it again
    children = list(root)
    if root.tag != "{DAV:}propfind" or len(children) != 1:
        return None
    request = children[0]
    if request.tag == "{DAV:}allprop" and not list(request):
        return ALLPROP
    if request.tag != "{DAV:}prop":
        return None
    names = tuple(str(element.tag) for element in request)
    if not names or any(name.startswith("{DAV:}") and name not in LIVE for name in names):
        return None
    return names


class _Listing:
    """The entries of a Depth 0 or 1 PROPFIND on ``resource``: itself, then its visible children by name."""

    def __init__(self, provider: Provider, environ: Environ) -> None:
        self.provider = provider
        self.environ = environ
        self.prefix = provider.mount_path + provider.share_path
        self.by_uuid: dict[uuid.UUID, Entry] = {}

    def entries(self, resource: NodeResourceMixin, depth: str, wanted: str | tuple[str, ...]) -> list[Entry]:
        node = resource.node
        path = resource.path.rstrip("/") or "/"
        entries = [
            self._entry(
                path,
                is_folder=node.is_folder,
                display_name=resource.get_display_name(),
                size=node.size,
                content_type=node.content_type,
                etag=node.etag,
                created_at=node.created_at,
                mtime=node.mtime,
                access=resource.access,
            )
        ]
        self.by_uuid[node.pk] = entries[0]
        with_children = depth == "1" and isinstance(resource, FolderResource)
        if with_children:
            rights = self.provider.rights(self.environ)
            children = rights.visible_children(node, Node.objects.filter(parent=node).order_by("name"))
            for key, name, child_path, kind, size, mtime, created_at, etag, content_type in children.values_list(*_ROW):
                entry = self._entry(
                    f"{path}/{name}",
                    is_folder=kind == Node.FOLDER,
                    display_name=name,
                    size=size,
                    content_type=content_type,
                    etag=etag,
                    created_at=created_at,
                    mtime=mtime,
                    access=rights.access_at(node.workspace_id, child_path),
                )
                entries.append(entry)
                self.by_uuid[key] = entry
        # A <prop> list of live properties alone (rclone's, after every upload) needs neither query.
        if wanted == ALLPROP or any(not name.startswith("{DAV:}") for name in wanted):
            self._add_dead_properties(node, with_children=with_children)
        if wanted == ALLPROP or "{DAV:}lockdiscovery" in wanted:
            self._add_locks(path, with_children=with_children, entries=entries)
        return entries

    def _entry(self, path: str, *, is_folder: bool, content_type: str, **fields: Any) -> Entry:
        # WsgiDAV's get_href: the preferred path (a folder's ends with a slash), quoted.
        href = quote(self.prefix + path + ("/" if is_folder else ""), safe=_HREF_SAFE)
        return Entry(
            href=href,
            path=path,
            is_folder=is_folder,
            content_type=content_type or "application/octet-stream",
            **fields,
        )

    def _add_dead_properties(self, node: Node, *, with_children: bool) -> None:
        for node_id, name, value in raw_sql.dead_properties(node, with_children=with_children):
            entry = self.by_uuid.get(node_id)
            if entry is not None:  # None: a child this principal does not see
                entry.dead[name] = value

    def _add_locks(self, path: str, *, with_children: bool, entries: list[Entry]) -> None:
        """Each entry's own locks (WsgiDAV's lockdiscovery shows the locks rooted at the resource only), from
        the request's lock snapshot."""
        storage = self.provider.lock_manager.storage
        found = storage.get_lock_list(
            self._lock_root(path), include_root=True, include_children=with_children, token_only=False
        )
        if not found:
            return
        by_root: dict[str, list[LockDict]] = {}
        for lock in found:
            by_root.setdefault(lock["root"], []).append(lock)
        for entry in entries:
            entry.locks = by_root.get(self._lock_root(entry.path), [])

    def _lock_root(self, path: str) -> str:
        # Locks are keyed by WsgiDAV's ref URL (get_ref_url: the share path and the path, quoted).
        return str(normalize_lock_root(quote(self.provider.share_path + path)))


def _element(name: str) -> str:
    """``{namespace}local`` as an empty element: a property that is not found."""
    namespace, _, local = name[1:].partition("}") if name.startswith("{") else ("", "", name)
    if namespace == "DAV:":
        return f"<D:{local}/>"
    if namespace:
        return f'<N:{local} xmlns:N="{escape(namespace, _ATTRIBUTE_ENTITIES)}"/>'
    return f"<{local}/>"


def _response(entry: Entry, wanted: str | tuple[str, ...]) -> str:
    if wanted == ALLPROP and not entry.dead:
        # The common case of a large listing: every property is found, so one <propstat>.
        found = "".join([RENDER[name](entry) for name in allprop_names(entry)])
        return (
            f"<D:response><D:href>{entry.href}</D:href>"
            f"<D:propstat><D:prop>{found}</D:prop><D:status>{_OK}</D:status></D:propstat></D:response>"
        )
    names = [*allprop_names(entry), *entry.dead] if wanted == ALLPROP else list(wanted)
    # One <propstat> per status, in the order each status first appears (as WsgiDAV groups them).
    groups: dict[str, list[str]] = {}
    for name in names:
        value = entry.dead.get(name)
        if value is not None:
            # PROPPATCH stores a serialised element; anything else (a declaration first) is parsed first.
            groups.setdefault(_OK, []).append(value if not value.startswith("<?") else fragment(value))
            continue
        live = live_property(entry, name)
        if live is None:
            groups.setdefault(_NOT_FOUND, []).append(_element(name))
        else:
            groups.setdefault(_OK, []).append(live)
    parts = [f"<D:response><D:href>{entry.href}</D:href>"]
    for status, props in groups.items():
        parts.append(f"<D:propstat><D:prop>{''.join(props)}</D:prop><D:status>{status}</D:status></D:propstat>")
    parts.append("</D:response>")
    return "".join(parts)


def propfind(provider: Provider, environ: Environ, start_response: StartResponse) -> Iterable[bytes] | None:
    """The 207 answer to a Depth 0 or 1 PROPFIND on a folder or file, or None to leave it to WsgiDAV."""
    depth = environ.get("HTTP_DEPTH")
    if depth not in ("0", "1") or any(name in environ for name in _CONDITIONS):
        return None
    resource = provider.get_resource_inst(environ["PATH_INFO"], environ)
    if not isinstance(resource, NodeResourceMixin):
        return None
    wanted = _requested_properties(environ)
    if wanted is None:
        return None
    entries = _Listing(provider, environ).entries(resource, depth, wanted)
    body = "".join(
        [
            '<?xml version="1.0" encoding="utf-8" ?>\n<D:multistatus xmlns:D="DAV:">',
            *(_response(entry, wanted) for entry in entries),
            "</D:multistatus>",
        ]
    ).encode("utf-8")
    environ["wsgidav.all_input_read"] = 1
    start_response(
        "207 Multi-Status",
        [
            ("Content-Type", "application/xml; charset=utf-8"),
            ("Date", util.get_rfc1123_time()),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]
