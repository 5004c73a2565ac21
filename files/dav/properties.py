"""Dead properties (PROPPATCH) stored as rows attached to the node (:class:`files.models.DeadProperty`).

Keeping them on the node rather than on the URL means a rename or move carries them along and a delete takes
them away without any bookkeeping. A listing prefetches them with the children, so a Depth 1 PROPFIND costs
one query for all members' properties.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wsgidav import util, xml_tools
from wsgidav.dav_error import HTTP_FORBIDDEN, DAVError

from files.dav.errors import shielded
from files.models import DeadProperty, Node

if TYPE_CHECKING:
    from files.rights import Access


class DeadPropertiesMixin:
    """For resources over a node: ``self.node`` and ``self.access`` are set by the resource."""

    node: Node
    access: Access
    _dead: dict[str, str] | None = None

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
        from files.rights import Access

        if Access.WRITE not in self.access:
            raise DAVError(HTTP_FORBIDDEN)
        if name.startswith("{DAV:}"):
            # Live and lock properties: the base class refuses them with the right precondition.
            super().set_property_value(name, value, dry_run=dry_run)  # type: ignore[misc]
            return
        if dry_run:
            return
        if value is None:
            DeadProperty.objects.filter(node=self.node, name=name).delete()
        else:
            text = util.etree.tostring(value, encoding="unicode")
            DeadProperty.objects.update_or_create(node=self.node, name=name, defaults={"value": text})
        self._dead = None
        if hasattr(self.node, "_prefetched_objects_cache"):
            self.node._prefetched_objects_cache.pop("dead_properties", None)


def copy_dead_properties(source: Node, target: Node) -> None:
    """Make ``target``'s dead properties those of ``source`` (COPY)."""
    DeadProperty.objects.filter(node=target).delete()
    DeadProperty.objects.bulk_create(
        DeadProperty(node=target, name=prop.name, value=prop.value) for prop in source.dead_properties.all()
    )
