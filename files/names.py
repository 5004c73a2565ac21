"""What a node's name may be: :func:`validate_name`, and the same rules as :data:`NAME_PATTERN` for the API
schemas, so that their clients see them up front.

Every operation that gives a node a name (``files.services``, ``files.copies``) asks :func:`validate_name`
first; WebDAV asks it too when WsgiDAV asks for a new file, before the upload is read.
"""

from __future__ import annotations

from files.errors import NodeError

# validate_name()'s rules as one regular expression, for the API schemas (their clients see the rules up front).
# No look-arounds, so that Python, ECMAScript (JSON Schema) and pydantic's Rust engine all read it the same:
# a name of one or two characters that is not "." or "..", or a longer one; never slashes or control
# characters, never white space at either end. Length is checked separately (1 to 255).
# White space is spelled out as what str.strip() removes (beyond the control characters, excluded anyway): each
# engine's \s differs (ECMAScript's leaves out U+0085 and takes U+FEFF, for one).
_SPACES = " \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_NAME_CHAR = r"[^/\\\x00-\x1f\x7f]"
_NAME_EDGE = r"[^/\\\x00-\x1f\x7f" + _SPACES + "]"
_NAME_EDGE_NOT_DOT = r"[^/\\\x00-\x1f\x7f" + _SPACES + ".]"
_NAME_FORMS = (
    _NAME_EDGE_NOT_DOT,
    _NAME_EDGE_NOT_DOT + _NAME_EDGE,
    r"\." + _NAME_EDGE_NOT_DOT,
    _NAME_EDGE + _NAME_CHAR + "+" + _NAME_EDGE,
)
NAME_PATTERN = "^(?:" + "|".join(_NAME_FORMS) + ")$"
NAME_MAX_LENGTH = 255


def validate_name(name: str) -> str:
    if not name or name in {".", ".."}:
        raise NodeError("A name must not be empty, '.' or '..'.")
    if len(name) > NAME_MAX_LENGTH:
        raise NodeError("A name must be at most 255 characters long.")
    if "/" in name or "\\" in name or any(ord(char) < 32 or ord(char) == 127 for char in name):
        raise NodeError("A name must not contain slashes or control characters.")
    if name != name.strip():
        raise NodeError("A name must not start or end with white space.")
    if not name.isprintable() and any(0xD800 <= ord(char) <= 0xDFFF for char in name):
        # A lone surrogate (JSON allows "\ud800") cannot be stored as UTF-8 by any database.
        raise NodeError("A name must be valid Unicode text.")
    return name
