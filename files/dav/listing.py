"""PROPFIND with Depth 0 or 1 on a folder or a file, answered from rows rather than from resource objects.

WsgiDAV answers a PROPFIND resource by resource and property by property, into an ElementTree it then
serialises: on a folder of 1,000 files that is some 10,000 property look-ups and 25,000 elements, several
times the cost of the listing itself. The common requests (``allprop``, an empty body, or a ``<prop>`` list of
the standard live properties and dead properties) are answered here instead, from the visible children (one
query, through ``Rights.visible_children``), their dead properties (one query) and the lock snapshot (one
query), and written out as text. A ``<prop>`` list that names no dead property skips the second, and one
without ``lockdiscovery`` the third: rclone's PROPFIND after each upload asks for four live properties.

The answer is the one WsgiDAV gives for the same request (``tests/test_dav_listing.py`` compares the two).
Anything else (``propname``, ``If`` headers, the workspace list, properties such as the quotas) goes to
WsgiDAV's own handler.
"""

from __future__ import annotations

import functools
import io
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from xml.etree import ElementTree

from wsgidav import util, xml_tools
from wsgidav.lock_man.lock_manager import normalize_lock_root

from files import statements
from files.dav.resources import FolderResource, NodeResourceMixin
from files.models import Node
from files.rights import Access

if TYPE_CHECKING:
    from files.dav.provider import Provider

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
LockDict = dict[str, Any]

_ALLPROP = "allprop"
# The live properties answered here; a <prop> request naming any other {DAV:} property goes to WsgiDAV.
_LIVE = frozenset(
    "{DAV:}" + name
    for name in (
        "resourcetype",
        "creationdate",
        "getcontentlength",
        "getcontenttype",
        "getlastmodified",
        "displayname",
        "getetag",
        "lockdiscovery",
        "supportedlock",
    )
)
# Only files have these (WsgiDAV answers 404 for a folder).
_FILE_ONLY = frozenset({"{DAV:}getcontentlength", "{DAV:}getcontenttype", "{DAV:}getetag"})
_CONDITIONS = ("HTTP_IF", "HTTP_IF_MATCH", "HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_UNMODIFIED_SINCE")
# WsgiDAV's get_href: Nautilus chokes on an encoded '(', so RFC 2068's "extra" and "safe" characters stay.
_HREF_SAFE = "/" + "!*'()," + "$-_|."
_SUPPORTED_LOCK = (
    "<D:supportedlock>"
    "<D:lockentry><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>"
    "<D:lockentry><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>"
    "</D:supportedlock>"
)
_OK = "HTTP/1.1 200 OK"
_NOT_FOUND = "HTTP/1.1 404 Not Found"
_ROW = ("uuid", "name", "path", "type", "size", "mtime", "created_at", "etag", "content_type")


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attribute(value: str) -> str:
    return _text(value).replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#09;")


def _fragment(xml: str | bytes) -> str:
    """A stored XML element, as text to put inside the multistatus."""
    element = xml_tools.string_to_xml(xml)
    text: str = ElementTree.tostring(element, encoding="unicode")
    return text


def _element(name: str, content: str = "") -> str:
    """``{namespace}local`` as an element with ``content`` (already XML)."""
    namespace, _, local = name[1:].partition("}") if name.startswith("{") else ("", "", name)
    if namespace == "DAV:":
        tag, declaration = f"D:{local}", ""
    elif namespace:
        tag, declaration = f"N:{local}", f' xmlns:N="{_attribute(namespace)}"'
    else:
        tag, declaration = local, ""
    if content:
        return f"<{tag}{declaration}>{content}</{tag}>"
    return f"<{tag}{declaration}/>"


@dataclass
class _Entry:
    """One <response>: a node as the principal sees it."""

    href: str
    path: str
    is_folder: bool
    display_name: str
    size: int
    content_type: str
    etag: str
    created_at: datetime
    mtime: datetime
    access: Access
    dead: dict[str, str] = field(default_factory=dict)
    locks: list[LockDict] = field(default_factory=list)


class _Listing:
    """The entries of a Depth 0 or 1 PROPFIND on ``resource``: itself, then its visible children by name."""

    def __init__(self, provider: Provider, environ: Environ) -> None:
        self.provider = provider
        self.environ = environ
        self.prefix = provider.mount_path + provider.share_path
        self.by_uuid: dict[uuid.UUID, _Entry] = {}

    def entries(self, resource: NodeResourceMixin, depth: str, wanted: str | tuple[str, ...]) -> list[_Entry]:
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
        if wanted == _ALLPROP or any(not name.startswith("{DAV:}") for name in wanted):
            self._add_dead_properties(node, with_children=with_children)
        if wanted == _ALLPROP or "{DAV:}lockdiscovery" in wanted:
            self._add_locks(path, with_children=with_children, entries=entries)
        return entries

    def _entry(self, path: str, *, is_folder: bool, content_type: str, **fields: Any) -> _Entry:
        # WsgiDAV's get_href: the preferred path (a folder's ends with a slash), quoted.
        href = quote(self.prefix + path + ("/" if is_folder else ""), safe=_HREF_SAFE)
        return _Entry(
            href=href,
            path=path,
            is_folder=is_folder,
            content_type=content_type or "application/octet-stream",
            **fields,
        )

    def _add_dead_properties(self, node: Node, *, with_children: bool) -> None:
        for node_id, name, value in statements.dead_properties(node, with_children=with_children):
            entry = self.by_uuid.get(node_id)
            if entry is not None:  # None: a child this principal does not see
                entry.dead[name] = value

    def _add_locks(self, path: str, *, with_children: bool, entries: list[_Entry]) -> None:
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


def _lock_discovery(entry: _Entry) -> str:
    if not entry.locks:
        return "<D:lockdiscovery/>"
    parts = ["<D:lockdiscovery>"]
    now = time.time()
    for lock in entry.locks:
        # The owner element as WsgiDAV stored it (with an XML declaration): re-serialised without one.
        owner_xml = _fragment(lock["owner"]) if lock["owner"] else ""
        timeout = "Infinite" if lock["timeout"] < 0 else "Second-" + str(int(lock["expire"] - now))
        parts.append(
            "<D:activelock>"
            f"<D:locktype><D:{lock['type']}/></D:locktype>"
            f"<D:lockscope><D:{lock['scope']}/></D:lockscope>"
            f"<D:depth>{_text(lock['depth'])}</D:depth>"
            f"{owner_xml}"
            f"<D:timeout>{timeout}</D:timeout>"
            f"<D:locktoken><D:href>{_text(lock['token'])}</D:href></D:locktoken>"
            # Only a resource's own locks are listed, so the lock root is the resource itself.
            f"<D:lockroot><D:href>{entry.href}</D:href></D:lockroot>"
            "</D:activelock>"
        )
    parts.append("</D:lockdiscovery>")
    return "".join(parts)


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _rfc1123(moment: datetime) -> str:
    """WsgiDAV's ``get_rfc1123_time`` (``email.utils.formatdate`` in GMT, whole seconds), straight from the
    datetime rather than through a timestamp and a time tuple: a listing writes one per entry."""
    utc = moment.astimezone(UTC)
    return f"{_DAYS[utc.weekday()]}, {utc.day:02d} {_MONTHS[utc.month - 1]} {utc.year:04d} {utc:%H:%M:%S} GMT"


def _rfc3339(moment: datetime) -> str:
    """WsgiDAV's ``get_rfc3339_time``, likewise."""
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


# Each live property of an entry as XML, by name.
_RENDER: dict[str, Callable[[_Entry], str]] = {
    "{DAV:}resourcetype": lambda entry: (
        "<D:resourcetype><D:collection/></D:resourcetype>" if entry.is_folder else "<D:resourcetype/>"
    ),
    "{DAV:}creationdate": lambda entry: f"<D:creationdate>{_rfc3339(entry.created_at)}</D:creationdate>",
    "{DAV:}getcontentlength": lambda entry: f"<D:getcontentlength>{entry.size}</D:getcontentlength>",
    "{DAV:}getcontenttype": lambda entry: f"<D:getcontenttype>{_text(entry.content_type)}</D:getcontenttype>",
    "{DAV:}getlastmodified": lambda entry: f"<D:getlastmodified>{_rfc1123(entry.mtime)}</D:getlastmodified>",
    "{DAV:}displayname": lambda entry: f"<D:displayname>{_text(entry.display_name)}</D:displayname>",
    "{DAV:}getetag": lambda entry: f"<D:getetag>{_text(entry.etag)}</D:getetag>",
    "{DAV:}lockdiscovery": _lock_discovery,
    "{DAV:}supportedlock": lambda entry: _SUPPORTED_LOCK,
}
assert _RENDER.keys() == _LIVE


def _live(entry: _Entry, name: str) -> str | None:
    """The live property ``name`` of ``entry`` as XML; None where WsgiDAV answers 404."""
    if entry.is_folder and name in _FILE_ONLY:
        return None
    render = _RENDER.get(name)
    return render(entry) if render is not None else None


# In WsgiDAV's order (DAVResource.get_property_names): live properties, lock properties, dead properties.
_ALLPROP_FOLDER = ["{DAV:}resourcetype", "{DAV:}creationdate", "{DAV:}getlastmodified", "{DAV:}displayname"]
_ALLPROP_FILE = [
    "{DAV:}resourcetype",
    "{DAV:}creationdate",
    "{DAV:}getcontentlength",
    "{DAV:}getcontenttype",
    "{DAV:}getlastmodified",
    "{DAV:}displayname",
    "{DAV:}getetag",
]
_LOCK_PROPERTIES = ["{DAV:}lockdiscovery", "{DAV:}supportedlock"]


def _allprop_names(entry: _Entry) -> list[str]:
    names = list(_ALLPROP_FOLDER if entry.is_folder else _ALLPROP_FILE)
    if Access.WRITE in entry.access:  # WsgiDAV leaves them out where locking is prevented
        names += _LOCK_PROPERTIES
    return names


def _response(entry: _Entry, wanted: str | tuple[str, ...]) -> str:
    if wanted == _ALLPROP and not entry.dead:
        # The common case of a large listing: every property is found, so one <propstat>.
        found = "".join([_RENDER[name](entry) for name in _allprop_names(entry)])
        return (
            f"<D:response><D:href>{entry.href}</D:href>"
            f"<D:propstat><D:prop>{found}</D:prop><D:status>{_OK}</D:status></D:propstat></D:response>"
        )
    names = [*_allprop_names(entry), *entry.dead] if wanted == _ALLPROP else list(wanted)
    # One <propstat> per status, in the order each status first appears (as WsgiDAV groups them).
    groups: dict[str, list[str]] = {}
    for name in names:
        value = entry.dead.get(name)
        if value is not None:
            # PROPPATCH stores a serialised element; anything else (a declaration first) is parsed first.
            groups.setdefault(_OK, []).append(value if not value.startswith("<?") else _fragment(value))
            continue
        live = _live(entry, name)
        if live is None:
            groups.setdefault(_NOT_FOUND, []).append(_element(name))
        else:
            groups.setdefault(_OK, []).append(live)
    parts = [f"<D:response><D:href>{entry.href}</D:href>"]
    for status, props in groups.items():
        parts.append(f"<D:propstat><D:prop>{''.join(props)}</D:prop><D:status>{status}</D:status></D:propstat>")
    parts.append("</D:response>")
    return "".join(parts)


def _wanted(environ: Environ) -> str | tuple[str, ...] | None:
    """What a PROPFIND body asks for, or None for whatever is left to WsgiDAV. Reads the body and puts it
    back for WsgiDAV to read again."""
    length_header = environ.get("CONTENT_LENGTH", "").strip()
    if not length_header:
        return _ALLPROP
    try:
        length = int(length_header)
    except ValueError:
        return None
    if length <= 0:
        return _ALLPROP if length == 0 else None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return _asked(body) if len(body) <= _REMEMBERED_BODY else _asked.__wrapped__(body)


#: A client sends the same PROPFIND body again and again (rclone after every upload): bodies up to this size
#: are parsed once per process (a few hundred of them at most, so a few hundred KiB).
_REMEMBERED_BODY = 2048


@functools.lru_cache(maxsize=256)
def _asked(body: bytes) -> str | tuple[str, ...] | None:
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
        return _ALLPROP
    if request.tag != "{DAV:}prop":
        return None
    names = tuple(str(element.tag) for element in request)
    if not names or any(name.startswith("{DAV:}") and name not in _LIVE for name in names):
        return None
    return names


def propfind(provider: Provider, environ: Environ, start_response: StartResponse) -> Iterable[bytes] | None:
    """The 207 answer to a Depth 0 or 1 PROPFIND on a folder or file, or None to leave it to WsgiDAV."""
    depth = environ.get("HTTP_DEPTH")
    if depth not in ("0", "1") or any(name in environ for name in _CONDITIONS):
        return None
    resource = provider.get_resource_inst(environ["PATH_INFO"], environ)
    if not isinstance(resource, NodeResourceMixin):
        return None
    wanted = _wanted(environ)
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
