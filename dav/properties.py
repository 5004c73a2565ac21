"""Dead properties (PROPPATCH) stored as rows attached to the node (:class:`files.models.DeadProperty`).

Keeping them on the node rather than on the URL means a rename or move carries them along and a delete takes
them away without any bookkeeping. A listing prefetches them with the children, so a Depth 1 PROPFIND costs
one query for all members' properties.

A node's properties come with it in every listing of its folder, so what one node holds is capped: a property
(its name and serialised value) at :data:`MAX_PROPERTY_SIZE`, all of a node's together at :data:`MAX_NODE_SIZE`.
A property over either is answered 507 Insufficient Storage in the PROPPATCH's multistatus (RFC 4918 §9.2.1: the
server does not have the space to record it), and the others 424, as PROPPATCH is all or nothing. A PROPPATCH
that sets or removes more than :data:`MAX_PER_REQUEST` properties is refused whole (413) before any of them is
looked at. WsgiDAV checks each property and then sets each in turn: here the checks plan the changes, and
:meth:`DeadPropertiesMixin.save_dead_properties` writes them at the end of the request, one statement for the
removed and one for the set, however many they are.
"""

from __future__ import annotations

from typing import Any

from wsgidav import util, xml_tools
from wsgidav.dav_error import HTTP_FORBIDDEN, HTTP_INSUFFICIENT_STORAGE, HTTP_REQUEST_ENTITY_TOO_LARGE, DAVError

from dav.errors import Refusal, shielded
from files.models import DeadProperty, Node
from files.rights import Access
from lib import rows

#: Properties one PROPPATCH may set or remove.
MAX_PER_REQUEST = 100
#: Bytes (UTF-8) of one property's name and serialised value together.
MAX_PROPERTY_SIZE = 16 * 1024
#: Bytes of all of one node's properties together, counted as :data:`MAX_PROPERTY_SIZE` counts one.
MAX_NODE_SIZE = 64 * 1024
#: Characters of a property's name (Clark notation), as the column holds them.
MAX_NAME_LENGTH: int = DeadProperty._meta.get_field("name").max_length  # type: ignore[assignment]


def _size(name: str, value: str) -> int:
    return len(name.encode()) + len(value.encode())


def refuse_too_many(body: bytes | None) -> None:
    """413 for a PROPPATCH body that sets or removes more than :data:`MAX_PER_REQUEST` properties. A body that is
    not a well-formed ``propertyupdate`` is left to WsgiDAV (400)."""
    # Each property is an element, and so a "<": a body with few of them is not parsed here.
    if body is None or body.count(b"<") <= MAX_PER_REQUEST:
        return
    try:
        root = xml_tools.etree.fromstring(body)  # defusedxml: no entities, no external references
    except Exception:
        return
    count = sum(len(prop) for instruction in root for prop in instruction if prop.tag == "{DAV:}prop")
    if count > MAX_PER_REQUEST:
        raise Refusal(
            HTTP_REQUEST_ENTITY_TOO_LARGE,
            context_info=f"A PROPPATCH may set or remove at most {MAX_PER_REQUEST} properties.",
        )


class DeadPropertiesMixin:
    """For resources over a node: ``self.node`` and ``self.access`` are set by the resource."""

    node: Node
    access: Access
    _dead: dict[str, str] | None = None
    #: This PROPPATCH's changes, as its checks found them: name → serialised value, or None to remove.
    _planned: dict[str, str | None] | None = None
    #: Whether every change passed its check (WsgiDAV then sets them): only then are they written.
    _confirmed: bool = False

    def _dead_properties(self) -> dict[str, str]:
        if self._dead is None:
            # Served from the prefetch cache when the node came from a listing.
            self._dead = {prop.name: prop.value for prop in self.node.dead_properties.all()}
        return self._dead

    def get_property_names(self, *, is_allprop: bool) -> list[str]:
        names: list[str] = super().get_property_names(is_allprop=is_allprop)  # type: ignore[misc]
        return names + list(self._dead_properties())

    def get_property_value(self, name: str) -> Any:
        value = self._dead_properties().get(name)
        if value is not None:
            return xml_tools.string_to_xml(value)
        return super().get_property_value(name)  # type: ignore[misc]

    @shielded
    def set_property_value(self, name: str, value: Any, *, dry_run: bool = False) -> None:
        if Access.WRITE not in self.access:
            raise DAVError(HTTP_FORBIDDEN)
        if name.startswith("{DAV:}"):
            # Live and lock properties: the base class refuses them with the right precondition.
            super().set_property_value(name, value, dry_run=dry_run)  # type: ignore[misc]
            return
        if dry_run:
            self._plan(name, value)
        else:
            # WsgiDAV sets the properties only once every one has passed its check: the plan stands.
            self._confirmed = True

    def _plan(self, name: str, value: Any) -> None:
        """Check one change of this PROPPATCH against the caps, with the changes before it, and note it."""
        if self._planned is None:
            self._planned = {}
        if value is None:
            self._planned[name] = None
            return
        if len(name) > MAX_NAME_LENGTH:
            raise _no_room(f"A property's name may be at most {MAX_NAME_LENGTH} characters.")
        text = util.etree.tostring(value, encoding="unicode")
        if _size(name, text) > MAX_PROPERTY_SIZE:
            raise _no_room(f"A property (its name and value) may take at most {MAX_PROPERTY_SIZE // 1024} KiB.")
        after = {**self._dead_properties(), **self._planned, name: text}
        if sum(_size(key, kept) for key, kept in after.items() if kept is not None) > MAX_NODE_SIZE:
            raise _no_room(
                f"The properties of one file or folder may take at most {MAX_NODE_SIZE // 1024} KiB together."
            )
        self._planned[name] = text

    def save_dead_properties(self) -> None:
        """Write this PROPPATCH's changes, if WsgiDAV set them: one statement for the removed, one for the set
        (inserted or, where the name is taken, updated)."""
        planned, self._planned = self._planned, None
        confirmed, self._confirmed = self._confirmed, False
        if not planned or not confirmed:
            return
        removed = [name for name, value in planned.items() if value is None]
        if removed:
            DeadProperty.objects.filter(node=self.node, name__in=removed).delete()
        node = self.node
        kept = [DeadProperty(node=node, name=name, value=value) for name, value in planned.items() if value is not None]
        if kept:
            DeadProperty.objects.bulk_create(
                kept, update_conflicts=True, unique_fields=["node", "name"], update_fields=["value"]
            )
        self._dead = None
        rows.forget_prefetched(self.node, "dead_properties")


def _no_room(reason: str) -> Refusal:
    return Refusal(HTTP_INSUFFICIENT_STORAGE, context_info=reason)


def copy_dead_properties(source: Node, target: Node) -> None:
    """Make ``target``'s dead properties those of ``source`` (COPY)."""
    DeadProperty.objects.filter(node=target).delete()
    DeadProperty.objects.bulk_create(
        DeadProperty(node=target, name=prop.name, value=prop.value) for prop in source.dead_properties.all()
    )
