"""The workspaces and nodes of the REST API (SPEC §6), over ``files.services`` and the one rights function.

Reach rules, asked of ``files.rights`` and never decided here:

- a node the principal cannot even traverse does not exist: 404, the same answer as for a uuid that was
  never used, so the API never hints that a node is there;
- a node that exists for the principal but may not be changed (read-only grant or scope, a scoped node
  itself, a workspace root) is 403; content that may not be read (a ``w``-only scope) is 403 too;
- a request that conflicts with what the node is (children of a file, content of a folder, a name taken)
  is 409; a name the tree refuses (empty, ``..``, slashes, control characters) is 400;
- a write to what a WebDAV lock holds (an editor has the file open) is 423: the API cannot present a lock
  token, so every lock holds against it, whoever owns it (``files.dav.lock_checks.refuse_if_locked``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from django.db import transaction
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.errors import HttpError

from cellsadmin.api_responses import responses
from files import conditions as conditional
from files import downloads, names, paths, services
from files.dav import lock_checks
from files.models import Node
from files.rights import Access, Rights, rights_for
from files.uploads import RequestBody
from tokens.rest import principal_of

router = Router(tags=["files"])

NOT_FOUND = "No such node."

_BINARY = {"schema": {"type": "string", "format": "binary"}}
# The write conditions of an upload (files.conditions), read from the request's headers.
_CONDITIONS = [
    {
        "name": "If-Match",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": 'Write only over this version of the file: its ETag (`"…"`), or `*` for any.',
    },
    {
        "name": "If-None-Match",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": "`*`: write only if there is no such file yet (create, never replace).",
    },
]
_UPLOAD: dict[str, Any] = {
    "requestBody": {"required": True, "content": {"application/octet-stream": _BINARY}},
    "parameters": _CONDITIONS,
}


#: A node name as the tree accepts it (files.names.validate_name), declared so clients see the rules.
NodeName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=names.NAME_MAX_LENGTH,
        pattern=names.NAME_PATTERN,
        description="No slashes or control characters, no white space at either end, not '.' or '..'.",
    ),
]


class NodeOut(Schema):
    uuid: UUID
    name: str
    #: ``/<workspace slug>/<names…>``
    path: str
    type: Literal["folder", "file"]
    size: int
    mtime: datetime
    etag: str
    #: null for a workspace root
    parent: UUID | None


class WorkspaceOut(Schema):
    uuid: UUID
    slug: str
    label: str
    #: the uuid of the workspace's root folder
    root: UUID
    can_write: bool


class FolderIn(Schema):
    name: NodeName
    type: Literal["folder"]


class NodeChange(Schema):
    """Rename (``name``), move (``parent``: the destination folder's uuid), or both."""

    name: NodeName | None = None
    parent: UUID | None = None


class PathQuery(Schema):
    path: str = Field(description="/<workspace slug>/<names…>", examples=["/common/projects/alpha"])


def node_out(node: Node) -> NodeOut:
    return NodeOut(
        uuid=node.uuid,
        name=node.name,
        path=node.public_path,
        type=node.type,  # type: ignore[arg-type]
        size=node.size,
        mtime=node.mtime,
        etag=node.etag,
        parent=node.parent_id,
    )


def _rights(request: HttpRequest) -> Rights:
    principal = principal_of(request)
    return rights_for(principal.user, principal.token)


def _reachable(rights: Rights, node: Node | None, detail: str = NOT_FOUND) -> tuple[Node, Access]:
    access = rights.access(node) if node is not None else Access.NONE
    if node is None or Access.TRAVERSE not in access:
        raise HttpError(404, detail)
    return node, access


def _node(rights: Rights, node_id: UUID, detail: str = NOT_FOUND) -> tuple[Node, Access]:
    return _reachable(rights, Node.objects.select_related("workspace").filter(pk=node_id).first(), detail)


def _require(access: Access, needed: Access, detail: str) -> None:
    if needed not in access:
        raise HttpError(403, detail)


def _require_folder(node: Node, detail: str) -> None:
    if not node.is_folder:
        raise HttpError(409, detail)


def _require_file(node: Node, detail: str) -> None:
    if node.is_folder:
        raise HttpError(409, detail)


@router.get("/workspaces", response=responses({200: list[WorkspaceOut]}), summary="Workspaces you can reach")
def list_workspaces(request: HttpRequest) -> list[WorkspaceOut]:
    rights = _rights(request)
    workspaces = list(rights.visible_workspaces())
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


@router.get("/nodes", response=responses({200: NodeOut}, 404, 422), summary="Find a node by its path")
def node_by_path(request: HttpRequest, query: Query[PathQuery]) -> NodeOut:
    rights = _rights(request)
    # A NUL can be in a URL but not in a PostgreSQL string; no node has one in its name.
    node = paths.resolve_path(query.path, rights=rights) if "\x00" not in query.path else None
    found, _access = _reachable(rights, node)
    return node_out(found)


@router.get("/nodes/{node_id}", response=responses({200: NodeOut}, 404, 422), summary="Stat a node")
def get_node(request: HttpRequest, node_id: UUID) -> NodeOut:
    node, _access = _node(_rights(request), node_id)
    return node_out(node)


@router.get(
    "/nodes/{node_id}/children",
    response=responses({200: list[NodeOut]}, 404, 409, 422),
    summary="List a folder (only the branch towards the scoped nodes, for a folder a token can only traverse)",
)
def list_children(request: HttpRequest, node_id: UUID) -> list[NodeOut]:
    rights = _rights(request)
    folder, _access = _node(rights, node_id)
    _require_folder(folder, "A file has no children.")
    return [node_out(child) for child in rights.visible_children(folder, services.children(folder))]


@router.post(
    "/nodes/{node_id}/children",
    response=responses({201: NodeOut}, 400, 403, 404, 409, 422, 423),
    summary="Create a folder",
)
def create_folder(request: HttpRequest, node_id: UUID, payload: FolderIn) -> Status[NodeOut]:
    parent, access = _node(_rights(request), node_id)
    _require(access, Access.WRITE, "You may not create anything in this folder.")
    _require_folder(parent, "Folders can only be created inside a folder.")
    with transaction.atomic():
        lock_checks.refuse_if_locked(lock_checks.member_url(parent, payload.name), new_in=lock_checks.url_of(parent))
        folder = services.create_folder(parent=parent, name=payload.name)
    return Status(201, node_out(folder))


@router.put(
    "/nodes/{node_id}/children/{path:name}",
    response=responses({200: NodeOut, 201: NodeOut}, 400, 403, 404, 409, 411, 412, 413, 422, 423),
    openapi_extra=_UPLOAD,
    summary="Upload a file (the raw bytes): 201 when created, 200 when it replaced a file "
    "(If-Match, If-None-Match: * to create only)",
)
def put_child(request: HttpRequest, node_id: UUID, name: Annotated[NodeName, Path()]) -> Status[NodeOut]:
    rights = _rights(request)
    parent, access = _node(rights, node_id)
    conditions = conditional.from_request(request)
    existing = None
    if Access.WRITE not in access or conditions is not None:
        existing = Node.objects.select_related("workspace").filter(parent=parent, name=name).first()
    # A token scoped to a single file may overwrite that file, though not its folder.
    if Access.WRITE not in access and (existing is None or Access.WRITE not in rights.access(existing)):
        raise HttpError(403, "You may not write in this folder.")
    _require_folder(parent, "Files can only be written inside a folder.")
    if conditions is not None and not (existing is not None and existing.is_folder):
        _check(conditions, existing)
    body = RequestBody(request)
    guard = lock_checks.upload_guard(lock_checks.member_url(parent, name), conditions)
    if lock_checks.checked_before_body(body.expected):
        if existing is None and Access.WRITE in access and conditions is None:  # not looked up yet
            existing = Node.objects.filter(parent=parent, name=name).first()
        guard.check_locks(exists=existing is not None)
    node, created = services.write_file(
        parent=parent, name=name, stream=body, content_type=body.content_type, precondition=guard
    )
    return Status(201 if created else 200, node_out(node))


def _check(conditions: conditional.Conditions, node: Node | None) -> None:
    """The write's conditions against the file as the request found it: refused before the body is read."""
    if not conditions.allows(node.etag if node is not None else None):
        raise services.PreconditionFailed("The file is not in the state this write was made for.")


@router.get(
    "/nodes/{node_id}/content",
    response=responses({200: None, 206: None, 304: None}, 403, 404, 409, 416, 422),
    openapi_extra={
        "responses": {
            200: {"description": "The file's bytes", "content": {"*/*": _BINARY}},
            206: {"description": "One range of the file's bytes (Range)", "content": {"*/*": _BINARY}},
            304: {"description": "Not modified (If-None-Match)"},
        }
    },
    summary="Download a file (ETag, If-None-Match, a single Range)",
)
def get_content(request: HttpRequest, node_id: UUID) -> HttpResponseBase:
    node, access = _node(_rights(request), node_id)
    _require(access, Access.READ, "You may not read this file's content.")
    _require_file(node, "A folder has no content.")
    return downloads.content_response(request, node)


@router.put(
    "/nodes/{node_id}/content",
    response=responses({200: NodeOut}, 400, 403, 404, 409, 411, 412, 413, 422, 423),
    openapi_extra=_UPLOAD,
    summary="Replace a file's bytes (If-Match: only if it is still the version you read)",
)
def put_content(request: HttpRequest, node_id: UUID) -> NodeOut:
    node, access = _node(_rights(request), node_id)
    _require(access, Access.WRITE, "You may not change this file.")
    _require_file(node, "A folder has no content.")
    conditions = conditional.from_request(request)
    if conditions is not None:
        _check(conditions, node)
    body = RequestBody(request)
    guard = lock_checks.upload_guard(lock_checks.url_of(node), conditions)
    if lock_checks.checked_before_body(body.expected):
        guard.check_locks(exists=True)
    return node_out(services.replace_content(node=node, stream=body, precondition=guard))


@router.patch(
    "/nodes/{node_id}",
    response=responses({200: NodeOut}, 400, 403, 404, 409, 422, 423),
    summary="Rename and/or move a node",
)
def change_node(request: HttpRequest, node_id: UUID, payload: NodeChange) -> NodeOut:
    rights = _rights(request)
    node, _access = _node(rights, node_id)
    if not rights.can_remove(node):
        raise HttpError(403, "You may not rename or move this node.")
    if payload.name is None and payload.parent is None:
        return node_out(node)  # as JSON merge-patch: an empty change changes nothing
    destination = node.parent
    if payload.parent is not None and payload.parent != node.parent_id:
        destination, access = _node(rights, payload.parent, "No such destination folder.")
        _require(access, Access.WRITE, "You may not write in the destination folder.")
        _require_folder(destination, "The destination must be a folder.")
    assert destination is not None  # can_remove() is False for a root
    with transaction.atomic():
        source = lock_checks.url_of(node)
        lock_checks.refuse_if_locked(source, depth="infinity", new_in=lock_checks.folder_of(source))
        lock_checks.refuse_if_locked(
            lock_checks.member_url(destination, payload.name or node.name), new_in=lock_checks.url_of(destination)
        )
        moved = services.move(node=node, parent=destination, name=payload.name)
    # The move may have changed the workspace: read the node back with the one it is in now.
    return node_out(Node.objects.select_related("workspace").get(pk=moved.pk))


@router.delete(
    "/nodes/{node_id}",
    response=responses({204: None}, 403, 404, 422, 423),
    summary="Delete a node (a folder with everything in it)",
)
def delete_node(request: HttpRequest, node_id: UUID) -> Status[None]:
    rights = _rights(request)
    node, _access = _node(rights, node_id)
    if not rights.can_remove(node):
        raise HttpError(403, "You may not delete this node.")
    with transaction.atomic():
        url = lock_checks.url_of(node)
        lock_checks.refuse_if_locked(url, depth="infinity", new_in=lock_checks.folder_of(url))
        services.delete(node)
    return Status(204, None)
