"""The tree over the REST API: the workspaces a principal reaches, finding a node by uuid or by path, listing
a folder, creating a folder, renaming and moving, deleting.

Each change asks the WebDAV locks (``files.locks.write_guard.refuse_if_locked``) in the transaction that makes
it, so a lock taken meanwhile still refuses it. A file's bytes are ``api.content``.
"""

from __future__ import annotations

from uuid import UUID

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status
from ninja.errors import HttpError

from api.access import reachable, reachable_node, require, require_folder, rights_of
from api.paging import Keyset, PageQuery, link_header_doc, page, text
from api.responses import responses
from api.schemas import FolderIn, NodeChange, NodeOut, PathQuery, WorkspaceOut, node_out
from files import paths, services
from files.locks import write_guard
from files.models import Node, Workspace
from files.rights import Access

# Each endpoint names its operation id: ninja would derive it from this module's name, and the document (with
# the clients generated from it) keeps the ids it had when these endpoints lived in one files/api.py.
router = Router(tags=["files"])

# The orders of the listings, each on a unique key that an index serves: slugs are unique, and so are names
# among siblings (the uuid only makes the key unique whatever the database's collation calls equal).
WORKSPACE_ORDER = Keyset(fields=("slug",), parsers=(text,))
CHILDREN_ORDER = Keyset(fields=("name", "uuid"), parsers=(text, UUID))


@router.get(
    "/workspaces",
    response=responses({200: list[WorkspaceOut]}, 422),
    summary="Workspaces you can reach, by slug",
    operation_id="files_api_list_workspaces",
    openapi_extra=link_header_doc(),
)
def list_workspaces(request: HttpRequest, response: HttpResponse, paging: Query[PageQuery]) -> list[WorkspaceOut]:
    rights = rights_of(request)
    workspaces: list[Workspace] = page(request, response, rights.visible_workspaces(), WORKSPACE_ORDER, paging)
    roots = dict(Node.objects.filter(workspace__in=workspaces, parent__isnull=True).values_list("workspace_id", "uuid"))
    return [
        WorkspaceOut(
            uuid=workspace.uuid,
            slug=workspace.slug,
            label=workspace.label,
            root=roots[workspace.uuid],
            can_write=Access.WRITE in rights.workspace_access(workspace.uuid),
        )
        for workspace in workspaces
    ]


@router.get(
    "/nodes",
    response=responses({200: NodeOut}, 404, 422),
    summary="Find a node by its path",
    operation_id="files_api_node_by_path",
)
def node_by_path(request: HttpRequest, query: Query[PathQuery]) -> NodeOut:
    rights = rights_of(request)
    # A NUL can be in a URL but not in a PostgreSQL string; no node has one in its name.
    node = paths.resolve_path(query.path, rights=rights) if "\x00" not in query.path else None
    found, _access = reachable(rights, node)
    return node_out(found)


@router.get(
    "/nodes/{node_id}",
    response=responses({200: NodeOut}, 404, 422),
    summary="Stat a node",
    operation_id="files_api_get_node",
)
def get_node(request: HttpRequest, node_id: UUID) -> NodeOut:
    node, _access = reachable_node(rights_of(request), node_id)
    return node_out(node)


@router.get(
    "/nodes/{node_id}/children",
    response=responses({200: list[NodeOut]}, 404, 409, 422),
    summary="List a folder by name (only the branch towards the scoped nodes, for a folder a token can only traverse)",
    operation_id="files_api_list_children",
    openapi_extra=link_header_doc(),
)
def list_children(
    request: HttpRequest, response: HttpResponse, node_id: UUID, paging: Query[PageQuery]
) -> list[NodeOut]:
    rights = rights_of(request)
    folder, _access = reachable_node(rights, node_id)
    require_folder(folder, "A file has no children.")
    children = rights.visible_children(folder, services.children(folder))
    return [node_out(child) for child in page(request, response, children, CHILDREN_ORDER, paging)]


@router.post(
    "/nodes/{node_id}/children",
    response=responses({201: NodeOut}, 400, 403, 404, 409, 422, 423),
    summary="Create a folder",
    operation_id="files_api_create_folder",
)
def create_folder(request: HttpRequest, node_id: UUID, payload: FolderIn) -> Status[NodeOut]:
    parent, access = reachable_node(rights_of(request), node_id)
    require(access, Access.WRITE, "You may not create anything in this folder.")
    require_folder(parent, "Folders can only be created inside a folder.")
    with transaction.atomic():
        write_guard.refuse_if_locked(write_guard.member_url(parent, payload.name), new_in=write_guard.url_of(parent))
        folder = services.create_folder(parent=parent, name=payload.name)
    return Status(201, node_out(folder))


@router.patch(
    "/nodes/{node_id}",
    response=responses({200: NodeOut}, 400, 403, 404, 409, 422, 423),
    summary="Rename and/or move a node",
    operation_id="files_api_change_node",
)
def change_node(request: HttpRequest, node_id: UUID, payload: NodeChange) -> NodeOut:
    rights = rights_of(request)
    node, _access = reachable_node(rights, node_id)
    if not rights.can_remove(node):
        raise HttpError(403, "You may not rename or move this node.")
    if payload.name is None and payload.parent is None:
        return node_out(node)  # as JSON merge-patch: an empty change changes nothing
    destination = node.parent
    if payload.parent is not None and payload.parent != node.parent_id:
        destination, access = reachable_node(rights, payload.parent, "No such destination folder.")
        require(access, Access.WRITE, "You may not write in the destination folder.")
        require_folder(destination, "The destination must be a folder.")
    assert destination is not None  # can_remove() is False for a root
    with transaction.atomic():
        source = write_guard.url_of(node)
        write_guard.refuse_if_locked(source, depth="infinity", new_in=write_guard.folder_of(source))
        write_guard.refuse_if_locked(
            write_guard.member_url(destination, payload.name or node.name), new_in=write_guard.url_of(destination)
        )
        moved = services.move(node=node, parent=destination, name=payload.name)
    # The move may have changed the workspace: read the node back with the one it is in now.
    return node_out(Node.objects.select_related("workspace").get(pk=moved.pk))


@router.delete(
    "/nodes/{node_id}",
    response=responses({204: None}, 403, 404, 422, 423),
    summary="Delete a node (a folder with everything in it)",
    operation_id="files_api_delete_node",
)
def delete_node(request: HttpRequest, node_id: UUID) -> Status[None]:
    rights = rights_of(request)
    node, _access = reachable_node(rights, node_id)
    if not rights.can_remove(node):
        raise HttpError(403, "You may not delete this node.")
    with transaction.atomic():
        url = write_guard.url_of(node)
        write_guard.refuse_if_locked(url, depth="infinity", new_in=write_guard.folder_of(url))
        services.delete(node)
    return Status(204, None)
