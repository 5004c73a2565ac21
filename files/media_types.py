"""Which media types a browser would run, and what that means for the bytes users upload: the one rule for the
content type a file keeps and for how its bytes are served.

Files are served from the console's own origin (``/dav/…``, ``/api/v1/nodes/…/content``), where a browser sends
the viewer's session. A document that runs script there could read console pages as that viewer, so:

- an upload never keeps an *active* type (:func:`is_active`): the client's claim, else a guess from the name,
  and ``application/octet-stream`` when either would be active (:func:`stored_type`);
- serving decides again, for rows stored before this rule: an active type goes out as
  ``application/octet-stream``, as an attachment (:func:`served_type`, :func:`is_attachment`), and every response
  carrying user bytes has :data:`USER_BYTES_HEADERS` (a sandbox that gives the document an opaque origin and no
  script, and no sniffing a passive type into an active one).
"""

from __future__ import annotations

import mimetypes
import re
from urllib.parse import quote

OCTET_STREAM = "application/octet-stream"

#: On every response that carries a user's bytes, whatever their type. The sandbox, not the console's policy.
USER_BYTES_HEADERS = {
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "X-Content-Type-Options": "nosniff",
}

# Types a browser renders as a document that can run script, or runs (or applies) as a subresource of a page,
# where one served from this origin would pass the console's own "script-src 'self'" or "style-src 'self'".
_ACTIVE = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/xsl",
        "application/xslt+xml",
        "text/xml-external-parsed-entity",
        "application/xml-external-parsed-entity",
        "application/xml-dtd",
        "text/xul",
        "text/css",
        "text/vnd.wap.wml",
        "multipart/x-mixed-replace",
        "application/x-shockwave-flash",
        "application/futuresplash",
        "text/x-component",
        "application/hta",
        "text/cache-manifest",
        "application/wasm",
    }
)
# Any XML may be rendered as a document with XHTML or SVG inside; JavaScript goes by many names.
_ACTIVE_SUBTYPE = re.compile(r"(?:.*\+)?xml|.*(?:java|ecma|j|live|vb)script.*")
# type "/" subtype, both tokens (RFC 9110 §8.3.1) of at most 127 characters (RFC 6838 §4.2, which also keeps a
# stored type within its column); anything else is no media type at all.
_NAME = r"[!#$%&'*+.^_`|~0-9a-z-]{1,127}"
_ESSENCE = re.compile(rf"{_NAME}/{_NAME}")


def essence(media_type: str) -> str:
    """``type/subtype`` in lower case, without parameters; "" when it is not a media type."""
    candidate = media_type.split(";", 1)[0].strip().lower()
    return candidate if _ESSENCE.fullmatch(candidate) else ""


def is_active(media_type: str) -> bool:
    """Whether a browser would run content of this type, or render it as a document that can run script. What is
    no media type at all counts as active: it is never stored or sent as one."""
    kind = essence(media_type)
    return not kind or kind in _ACTIVE or bool(_ACTIVE_SUBTYPE.fullmatch(kind.split("/", 1)[1]))


def guessed_type(name: str) -> str:
    """The type a file's name suggests (its extension); "" when it suggests none."""
    return mimetypes.guess_type(name, strict=False)[0] or ""


def stored_type(claimed: str, name: str) -> str:
    """The content type an upload keeps: what the client claimed, else what the name suggests, as long as it is
    not active; otherwise ``application/octet-stream`` (which says nothing, so it never wins over a guess)."""
    for candidate in (claimed, guessed_type(name)):
        kind = essence(candidate)
        if kind and kind != OCTET_STREAM and not is_active(kind):
            return kind
    return OCTET_STREAM


def served_type(stored: str) -> str:
    """The Content-Type a file's bytes go out with: its stored type, unless that is active (a row stored before
    uploads were kept from active types)."""
    return OCTET_STREAM if is_active(stored) else essence(stored)


def is_attachment(stored: str, name: str) -> bool:
    """Whether the bytes go out as an attachment even where a file is otherwise shown in the browser: an active
    type stored, or a name that suggests one (``page.html`` kept as ``application/octet-stream``)."""
    return is_active(stored) or is_active(guessed_type(name) or OCTET_STREAM)


def content_disposition(name: str, *, attachment: bool = True) -> str:
    """``attachment`` (or ``inline``) with the file's name (RFC 6266): ``filename*`` in UTF-8 for every client
    that reads it, and a plain ``filename`` fallback where anything outside printable ASCII, quotes, backslashes
    and percent signs (which some clients decode) become ``_``."""
    fallback = "".join(char if " " <= char <= "~" and char not in '"\\%' else "_" for char in name)
    kind = "attachment" if attachment else "inline"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
