"""The scope picker of the create dialog: the owner's tree, one level at a time, as the rights function shows
it to the owner (never more), with whether each node could be written."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import F
from django.db.models.functions import Lower

from files.models import Node
from files.rights import Access, Rights, rights_for

if TYPE_CHECKING:
    from people.models import User


#: Children of a folder shown at a time, a list a person can still scan; "Show more" fetches the next ones and a
#: search box narrows a big folder.
CHILDREN_PAGE = 100
#: Longest search text kept (a name is at most 255 characters).
SEARCH_MAX = 255


@dataclass(frozen=True)
class ScopeChoice:
    """One node of the picker, with what its line shows computed once (a big folder shows hundreds)."""

    #: The node's uuid as text and its public path.
    id: str
    path: str
    name: str
    is_folder: bool
    can_write: bool
    #: The permission already chosen for this node when the form is shown again ("" for none).
    chosen: str = ""

    @classmethod
    def of(cls, node: Node, *, name: str, can_write: bool, chosen: str = "") -> ScopeChoice:
        return cls(
            id=str(node.uuid),
            path=node.public_path,
            name=name,
            is_folder=node.is_folder,
            can_write=can_write,
            chosen=chosen,
        )


def _choices(rights: Rights, nodes: list[Node], chosen: dict[str, str], *, roots: bool = False) -> list[ScopeChoice]:
    """In the order given: roots named by their workspace's label, other nodes by their name."""
    return [
        ScopeChoice.of(
            node,
            name=node.workspace.label if roots else node.name,
            can_write=Access.WRITE in rights.access(node),
            chosen=chosen.get(str(node.uuid), ""),
        )
        for node in nodes
    ]


def workspace_roots(owner: User, chosen: dict[str, str] | None = None) -> list[ScopeChoice]:
    """The root folder of every workspace the owner reaches."""
    rights = rights_for(owner)
    roots = Node.objects.filter(workspace__in=rights.visible_workspaces(), parent__isnull=True)
    return _choices(
        rights, list(roots.select_related("workspace").order_by("workspace__slug")), chosen or {}, roots=True
    )


@dataclass(frozen=True)
class Children:
    """One batch of a folder's children, folders first then by name, with where the next batch starts."""

    folder: Node
    choices: list[ScopeChoice]
    offset: int
    query: str
    #: The offset of the next batch, or None when this one is the last.
    next_offset: int | None

    @property
    def path(self) -> str:
        return self.folder.public_path


def search_text(raw: str | None) -> str:
    return (raw or "").replace("\x00", "").strip()[:SEARCH_MAX]


def batch_offset(raw: str | None) -> int:
    """Where a batch starts; anything but a small non-negative number starts at the beginning."""
    text = (raw or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else 0


def children(
    owner: User, parent: Node, *, offset: int = 0, query: str = "", limit: int = CHILDREN_PAGE
) -> Children | None:
    """At most ``limit`` children of ``parent`` that the owner may list, from ``offset``, whose names contain
    ``query`` (case-insensitively); None when the owner cannot list ``parent``. One query with a LIMIT, one row
    more than shown to know whether more follow, so a folder of any size costs the same."""
    rights = rights_for(owner)
    if not parent.is_folder or Access.LIST not in rights.access(parent):
        return None
    # Rows, not model instances: only what a choice shows, in the order of the index files_node_children_order
    # (folders first: "folder" sorts after "file"), so the batch is read from it, never sorted out of the folder.
    nodes = rights.visible_children(parent)
    if query:
        nodes = nodes.filter(name__icontains=query)
    ordered = nodes.order_by(F("type").desc(), Lower("name"), "name").values_list("uuid", "name", "path", "type")
    batch = list(ordered[offset : offset + limit + 1])
    more = len(batch) > limit
    slug, workspace_id = parent.workspace.slug, parent.workspace_id
    choices = [
        ScopeChoice(
            id=str(uid),
            path=f"/{slug}{path}",
            name=name,
            is_folder=kind == Node.FOLDER,
            can_write=Access.WRITE in rights.access_at(workspace_id, path),
        )
        for uid, name, path, kind in batch[:limit]
    ]
    return Children(
        folder=parent,
        choices=choices,
        offset=offset,
        query=query,
        next_offset=offset + limit if more else None,
    )


def chosen_below_roots(owner: User, chosen: dict[str, str]) -> list[ScopeChoice]:
    """Nodes below the workspace roots that were chosen before the form came back with an error: the tree
    starts folded again, so they are listed on their own to keep the choice visible and editable."""
    if not chosen:
        return []
    rights = rights_for(owner)
    nodes = Node.objects.filter(uuid__in=list(chosen), parent__isnull=False).select_related("workspace")
    readable = [node for node in nodes if Access.READ in rights.access(node)]
    choices = [
        ScopeChoice.of(
            node,
            name=node.public_path,
            can_write=Access.WRITE in rights.access(node),
            chosen=chosen[str(node.uuid)],
        )
        for node in readable
    ]
    return sorted(choices, key=lambda choice: choice.path)
