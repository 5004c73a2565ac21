"""What a PROPFIND request body asks for: :data:`ALLPROP`, the property names of a ``<prop>`` list, or None for
a request that ``dav.propfind`` leaves to WsgiDAV's own handler (``propname``, a malformed body, a
``{DAV:}`` property outside ``dav.live_properties.LIVE``).

The body is read here and put back for WsgiDAV to read again. A client sends the same body again and again
(rclone after every upload), so a small one is parsed once per process and remembered.
"""

from __future__ import annotations

import functools
import io
from typing import Any

from wsgidav import xml_tools

from dav.live_properties import LIVE

Environ = dict[str, Any]

ALLPROP = "allprop"


def wanted(environ: Environ) -> str | tuple[str, ...] | None:
    """What a PROPFIND body asks for, or None for whatever is left to WsgiDAV. Reads the body and puts it
    back for WsgiDAV to read again."""
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
        return ALLPROP
    if request.tag != "{DAV:}prop":
        return None
    names = tuple(str(element.tag) for element in request)
    if not names or any(name.startswith("{DAV:}") and name not in LIVE for name in names):
        return None
    return names
