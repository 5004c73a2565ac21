"""The live properties of a PROPFIND answer, written as text from an :class:`Entry` (a node as the principal
sees it, built by ``dav.propfind`` from rows).

Each is written as WsgiDAV writes it for the same resource: the dates as its ``get_rfc1123_time`` and
``get_rfc3339_time`` do, text escaped as ElementTree's serialiser escapes it, ``lockdiscovery`` with the locks
rooted at the resource, and an ``allprop`` answer with the properties in WsgiDAV's order and the lock properties
only where the principal may write. :data:`LIVE` is the set answered here; ``dav.propfind`` leaves a request
for any other ``{DAV:}`` property to WsgiDAV. Dead properties (``dav.properties``) are written as stored, by
``dav.propfind``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from wsgidav import xml_tools

from files.rights import Access

LockDict = dict[str, Any]

# The live properties answered here; a <prop> request naming any other {DAV:} property goes to WsgiDAV.
LIVE = frozenset(
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
_SUPPORTED_LOCK = (
    "<D:supportedlock>"
    "<D:lockentry><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>"
    "<D:lockentry><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>"
    "</D:supportedlock>"
)


@dataclass
class Entry:
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


def fragment(xml: str | bytes) -> str:
    """An element stored as XML (a dead property, a lock's owner), as text to put inside the multistatus: parsed
    and written again, which drops the XML declaration it was stored with."""
    serialised: str = ElementTree.tostring(xml_tools.string_to_xml(xml), encoding="unicode")
    return serialised


def _lock_discovery(entry: Entry) -> str:
    if not entry.locks:
        return "<D:lockdiscovery/>"
    parts = ["<D:lockdiscovery>"]
    now = time.time()
    for lock in entry.locks:
        # The owner element as WsgiDAV stored it (with an XML declaration): re-serialised without one.
        owner_xml = fragment(lock["owner"]) if lock["owner"] else ""
        timeout = "Infinite" if lock["timeout"] < 0 else "Second-" + str(int(lock["expire"] - now))
        parts.append(
            "<D:activelock>"
            f"<D:locktype><D:{lock['type']}/></D:locktype>"
            f"<D:lockscope><D:{lock['scope']}/></D:lockscope>"
            f"<D:depth>{escape(lock['depth'])}</D:depth>"
            f"{owner_xml}"
            f"<D:timeout>{timeout}</D:timeout>"
            f"<D:locktoken><D:href>{escape(lock['token'])}</D:href></D:locktoken>"
            # Only a resource's own locks are listed, so the lock root is the resource itself.
            f"<D:lockroot><D:href>{entry.href}</D:href></D:lockroot>"
            "</D:activelock>"
        )
    parts.append("</D:lockdiscovery>")
    return "".join(parts)


def _rfc1123(moment: datetime) -> str:
    """WsgiDAV's ``get_rfc1123_time``: ``email.utils.formatdate`` in GMT, whole seconds."""
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def _rfc3339(moment: datetime) -> str:
    """WsgiDAV's ``get_rfc3339_time``, likewise."""
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


# Each live property of an entry as XML, by name.
RENDER: dict[str, Callable[[Entry], str]] = {
    "{DAV:}resourcetype": lambda entry: (
        "<D:resourcetype><D:collection/></D:resourcetype>" if entry.is_folder else "<D:resourcetype/>"
    ),
    "{DAV:}creationdate": lambda entry: f"<D:creationdate>{_rfc3339(entry.created_at)}</D:creationdate>",
    "{DAV:}getcontentlength": lambda entry: f"<D:getcontentlength>{entry.size}</D:getcontentlength>",
    "{DAV:}getcontenttype": lambda entry: f"<D:getcontenttype>{escape(entry.content_type)}</D:getcontenttype>",
    "{DAV:}getlastmodified": lambda entry: f"<D:getlastmodified>{_rfc1123(entry.mtime)}</D:getlastmodified>",
    "{DAV:}displayname": lambda entry: f"<D:displayname>{escape(entry.display_name)}</D:displayname>",
    "{DAV:}getetag": lambda entry: f"<D:getetag>{escape(entry.etag)}</D:getetag>",
    "{DAV:}lockdiscovery": _lock_discovery,
    "{DAV:}supportedlock": lambda entry: _SUPPORTED_LOCK,
}
assert RENDER.keys() == LIVE


def live_property(entry: Entry, name: str) -> str | None:
    """The live property ``name`` of ``entry`` as XML; None where WsgiDAV answers 404."""
    if entry.is_folder and name in _FILE_ONLY:
        return None
    render = RENDER.get(name)
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


def allprop_names(entry: Entry) -> list[str]:
    names = list(_ALLPROP_FOLDER if entry.is_folder else _ALLPROP_FILE)
    if Access.WRITE in entry.access:  # WsgiDAV leaves them out where locking is prevented
        names += _LOCK_PROPERTIES
    return names
