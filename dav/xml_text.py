"""XML written as text, for the PROPFIND answers that ``dav.propfind`` builds without an ElementTree.

Text and attribute values are escaped as ElementTree's serialiser escapes them (WsgiDAV writes its answers
through it); only an element stored as XML (a dead property, a lock's owner) goes through ElementTree, where it
has to be parsed and written again.
"""

from __future__ import annotations

from xml.etree import ElementTree

from wsgidav import xml_tools


def text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attribute(value: str) -> str:
    return text(value).replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#09;")


def fragment(xml: str | bytes) -> str:
    """A stored XML element, as text to put inside the multistatus."""
    # Local names of their own: ``element`` and ``text`` are this module's functions.
    parsed = xml_tools.string_to_xml(xml)
    serialised: str = ElementTree.tostring(parsed, encoding="unicode")
    return serialised


def element(name: str, content: str = "") -> str:
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
