"""The scope picker of the create dialog: the owner's tree, one level at a time, as the rights function shows
it to the owner (never more), with whether each node could be written."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from files.models import Node
from files.rights import Access, Rights, rights_for

if TYPE_CHECKING:
    from people.models import User


@dataclass(frozen=True)
class ScopeChoice:
    node: Node
    name: str
    can_write: bool
    #: The permission already chosen for this node when the form is shown again ("" for none).
    chosen: str = ""

    @property
    def path(self) -> str:
        return self.node.public_path


def _choices(rights: Rights, nodes: list[Node], chosen: dict[str, str], *, roots: bool = False) -> list[ScopeChoice]:
    choices = [
        ScopeChoice(
            node=node,
            name=node.workspace.label if roots else node.name,
            can_write=Access.WRITE in rights.access(node),
            chosen=chosen.get(str(node.uuid), ""),
        )
        for node in nodes
    ]
    if not roots:
        choices.sort(key=lambda choice: (not choice.node.is_folder, choice.name.casefold()))
    return choices


def workspace_roots(owner: User, chosen: dict[str, str] | None = None) -> list[ScopeChoice]:
    """The root folder of every workspace the owner reaches."""
    rights = rights_for(owner)
    roots = Node.objects.filter(workspace__in=rights.visible_workspaces(), parent__isnull=True)
    return _choices(
        rights, list(roots.select_related("workspace").order_by("workspace__slug")), chosen or {}, roots=True
    )


def children(owner: User, parent: Node) -> list[ScopeChoice] | None:
    """The children of ``parent`` the owner may list, or None when the owner cannot list ``parent``."""
    rights = rights_for(owner)
    if not parent.is_folder or Access.LIST not in rights.access(parent):
        return None
    return _choices(rights, list(rights.visible_children(parent).select_related("workspace")), {})


def chosen_below_roots(owner: User, chosen: dict[str, str]) -> list[ScopeChoice]:
    """Nodes below the workspace roots that were chosen before the form came back with an error: the tree
    starts folded again, so they are listed on their own to keep the choice visible and editable."""
    if not chosen:
        return []
    rights = rights_for(owner)
    nodes = Node.objects.filter(uuid__in=list(chosen), parent__isnull=False).select_related("workspace")
    readable = [node for node in nodes if Access.READ in rights.access(node)]
    choices = [
        ScopeChoice(
            node=node,
            name=node.public_path,
            can_write=Access.WRITE in rights.access(node),
            chosen=chosen[str(node.uuid)],
        )
        for node in readable
    ]
    return sorted(choices, key=lambda choice: choice.path)
