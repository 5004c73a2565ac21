"""Where nodes are: a node's ``path`` inside its workspace ("" for the root, "/a/b" below it), and the public
path ``/<workspace slug>/<names…>`` that the REST API and WebDAV address it by.

:func:`resolve_paths` turns public paths into nodes, :func:`child_path` gives a new child its path (within
:data:`MAX_PATH_LENGTH`), and :func:`subtree` is a node with everything below it, found by path prefix. The
operations that change the tree (``files.services``, ``files.copies``) keep the paths in step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from files import raw_sql
from files.errors import NodeError
from files.models import Node

if TYPE_CHECKING:
    from files.rights import Rights

MAX_PATH_LENGTH = 2048


def child_path(parent: Node, name: str) -> str:
    path = f"{parent.path}/{name}"
    if len(path) > MAX_PATH_LENGTH:
        raise NodeError(f"A path must be at most {MAX_PATH_LENGTH} characters long.")
    return path


def resolve_path(public_path: str, *, rights: Rights | None = None) -> Node | None:
    """The node at ``/<workspace slug>/<names…>``, or None (one query)."""
    found = resolve_paths([public_path], rights=rights)
    return found[0]


def resolve_paths(public_paths: list[str], *, rights: Rights | None = None) -> list[Node | None]:
    """The nodes at ``public_paths`` (``/<slug>/…``), one query per workspace; None where there is none.

    With ``rights`` whose owner's grants are still unread, the same query brings the grant on the workspace
    along (``Rights.note_grant``): a request that stays in one workspace reads no grant on its own.

    Written out rather than built by the ORM (``files.raw_sql``): every API and WebDAV request resolves a
    path or two, and building this join through the ORM costs several times what the database takes to answer.
    """
    wanted: list[tuple[str, str] | None] = []
    for public_path in public_paths:
        parts = [part for part in public_path.split("/") if part]
        # No name holds a NUL (validate_name), and PostgreSQL text cannot even be compared with one.
        if not parts or "\x00" in public_path:
            wanted.append(None)
        else:
            wanted.append((parts[0], "".join(f"/{part}" for part in parts[1:])))
    slugs = {item[0] for item in wanted if item is not None}
    if len(slugs) > 1:
        return [node for public_path in public_paths for node in resolve_paths([public_path], rights=rights)]
    if not slugs:
        return [None] * len(public_paths)
    paths = sorted({item[1] for item in wanted if item is not None})
    grantee = rights.grantee if rights is not None else None
    found, grant = raw_sql.nodes_at(slugs.pop(), paths, grantee=grantee)
    if rights is not None and grant is not None:
        rights.note_grant(grant.workspace_id, read=grant.read, write=grant.write)
    return [found.get(item[1]) if item is not None else None for item in wanted]


def subtree(node: Node) -> QuerySet[Node]:
    return Node.objects.filter(workspace_id=node.workspace_id).filter(
        Q(pk=node.pk) | Q(path__startswith_exactly=node.path + "/")
    )
