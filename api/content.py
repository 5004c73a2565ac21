"""A file's bytes over the REST API: upload (a file into a folder by name, or new bytes for a file) and download.

An upload streams the request body (``files.uploads``, never ``request.body``) and honours its ``If-Match`` /
``If-None-Match`` / ``If-Unmodified-Since`` (``files.conditions``) and the WebDAV locks: checked when the
request arrives, before the body is read, and again where the write takes place
(``files.locks.write_guard.upload_guard``). A download is ``files.downloads`` (ETag, Last-Modified,
If-None-Match, If-Modified-Since, a single Range). The rest of the tree is ``api.nodes``.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from ninja import Path, Router, Status
from ninja.errors import HttpError

from api import head
from api.access import reachable_node, require, require_file, require_folder, rights_of
from api.responses import responses
from api.schemas import NodeName, NodeOut, node_out
from files import conditions as conditional
from files import downloads, services
from files.locks import write_guard
from files.models import Node
from files.rights import Access
from files.uploads import RequestBody

# Each endpoint names its operation id: ninja would derive it from this module's name, and the document (with
# the clients generated from it) keeps the ids it had when these endpoints lived in one files/api.py.
router = Router(tags=["files"])

_BINARY = {"schema": {"type": "string", "format": "binary"}}


def _header(name: str, description: str) -> dict[str, Any]:
    """An optional request header, as the OpenAPI document lists it."""
    return {"name": name, "in": "header", "required": False, "schema": {"type": "string"}, "description": description}


# The write conditions of an upload (files.conditions), read from the request's headers.
_CONDITIONS = [
    _header("If-Match", 'Write only over this version of the file: its ETag (`"…"`), or `*` for any.'),
    _header("If-None-Match", "`*`: write only if there is no such file yet (create, never replace)."),
    _header(
        "If-Unmodified-Since",
        "Write only over a file not modified since this HTTP date (its `Last-Modified`); "
        "ignored beside If-Match, and when it is no date.",
    ),
]
_UPLOAD: dict[str, Any] = {
    "requestBody": {"required": True, "content": {"application/octet-stream": _BINARY}},
    "parameters": _CONDITIONS,
}


@router.put(
    "/nodes/{node_id}/children/{path:name}",
    response=responses({200: NodeOut, 201: NodeOut}, 400, 403, 404, 409, 411, 412, 413, 422, 423),
    openapi_extra=_UPLOAD,
    summary="Upload a file (the raw bytes): 201 when created, 200 when it replaced a file "
    "(If-Match, If-None-Match: * to create only)",
    operation_id="files_api_put_child",
)
def put_child(request: HttpRequest, node_id: UUID, name: Annotated[NodeName, Path()]) -> Status[NodeOut]:
    rights = rights_of(request)
    parent, access = reachable_node(rights, node_id)
    conditions = conditional.from_request(request)
    existing = None
    if Access.WRITE not in access or conditions is not None:
        existing = Node.objects.select_related("workspace").filter(parent=parent, name=name).first()
    # A token scoped to a single file may overwrite that file, though not its folder.
    if Access.WRITE not in access and (existing is None or Access.WRITE not in rights.access(existing)):
        raise HttpError(403, "You may not write in this folder.")
    require_folder(parent, "Files can only be written inside a folder.")
    if conditions is not None and not (existing is not None and existing.is_folder):
        _check(conditions, existing)
    body = RequestBody(request)
    guard = write_guard.upload_guard(write_guard.member_url(parent, name), conditions)
    if write_guard.checked_before_body(body.expected):
        if existing is None and Access.WRITE in access and conditions is None:  # not looked up yet
            existing = Node.objects.filter(parent=parent, name=name).first()
        guard.check_locks(exists=existing is not None)
    node, created = services.write_file(
        parent=parent,
        name=name,
        stream=body,
        content_type=body.content_type,
        precondition=guard,
        found=existing is not None and not existing.is_folder,
    )
    return Status(201 if created else 200, node_out(node))


def _check(conditions: conditional.Conditions, node: Node | None) -> None:
    """The write's conditions against the file as the request found it: refused before the body is read."""
    if not conditions.allows(node):
        raise services.PreconditionFailed("The file is not in the state this write was made for.")


_DOWNLOAD_HEADERS = [
    _header("If-None-Match", "304 when the file still has one of these ETags (`*`: any)."),
    _header(
        "If-Modified-Since", "304 when the file was not modified since this HTTP date; ignored beside If-None-Match."
    ),
    _header("Range", "One range, `bytes=first-last`, `bytes=first-` or `bytes=-suffix`: 206 with those bytes."),
    _header("If-Range", "The ETag of the copy a Range continues: another version sends the whole file."),
]


@router.get(
    "/nodes/{node_id}/content",
    response=responses({200: None, 206: None, 304: None}, 403, 404, 409, 416, 422),
    openapi_extra={
        "parameters": _DOWNLOAD_HEADERS,
        "responses": {
            200: {"description": "The file's bytes", "content": {"*/*": _BINARY}},
            206: {"description": "One range of the file's bytes (Range)", "content": {"*/*": _BINARY}},
            304: {"description": "Not modified (If-None-Match, If-Modified-Since)"},
        },
    },
    summary="Download a file (ETag, Last-Modified, If-None-Match, If-Modified-Since, a single Range)",
    operation_id="files_api_get_content",
)
def get_content(request: HttpRequest, node_id: UUID) -> HttpResponseBase:
    node, access = reachable_node(rights_of(request), node_id)
    require(access, Access.READ, "You may not read this file's content.")
    require_file(node, "A folder has no content.")
    return downloads.content_response(request, node, body=not head.stands_for_head(request))


@router.put(
    "/nodes/{node_id}/content",
    response=responses({200: NodeOut}, 400, 403, 404, 409, 411, 412, 413, 422, 423),
    openapi_extra=_UPLOAD,
    summary="Replace a file's bytes (If-Match: only if it is still the version you read)",
    operation_id="files_api_put_content",
)
def put_content(request: HttpRequest, node_id: UUID) -> NodeOut:
    node, access = reachable_node(rights_of(request), node_id)
    require(access, Access.WRITE, "You may not change this file.")
    require_file(node, "A folder has no content.")
    conditions = conditional.from_request(request)
    if conditions is not None:
        _check(conditions, node)
    body = RequestBody(request)
    guard = write_guard.upload_guard(write_guard.url_of(node), conditions)
    if write_guard.checked_before_body(body.expected):
        guard.check_locks(exists=True)
    return node_out(services.replace_content(node=node, stream=body, precondition=guard))
