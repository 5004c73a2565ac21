"""How an endpoint finds the node a request names and refuses what the principal may not do with it.

``files.rights`` decides what the principal may do; these helpers only turn its answer into the statuses of
the access rules (``api``): 404 for a node out of reach, worded as for one that never existed, 403 for an
access the principal lacks, 409 for a folder where a file is needed or the other way round.
"""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest
from ninja.errors import HttpError

from api.auth import principal_of
from files.models import Node
from files.rights import Access, Rights, rights_for

NOT_FOUND = "No such node."


def rights_of(request: HttpRequest) -> Rights:
    principal = principal_of(request)
    return rights_for(principal.user, principal.scopes)


def reachable(rights: Rights, node: Node | None, detail: str = NOT_FOUND) -> tuple[Node, Access]:
    access = rights.access(node) if node is not None else Access.NONE
    if node is None or Access.TRAVERSE not in access:
        raise HttpError(404, detail)
    return node, access


def reachable_node(rights: Rights, node_id: UUID, detail: str = NOT_FOUND) -> tuple[Node, Access]:
    return reachable(rights, Node.objects.select_related("workspace").filter(pk=node_id).first(), detail)


def require(access: Access, needed: Access, detail: str) -> None:
    if needed not in access:
        raise HttpError(403, detail)


def require_folder(node: Node, detail: str) -> None:
    if not node.is_folder:
        raise HttpError(409, detail)


def require_file(node: Node, detail: str) -> None:
    if node.is_folder:
        raise HttpError(409, detail)
