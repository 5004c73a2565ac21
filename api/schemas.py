"""What the workspace and node endpoints take and answer: their ninja schemas, and ``node_out`` from a Node.

Shared by ``api.nodes`` and ``api.content``. Pydantic resolves these annotations at runtime in this
module, so every name they use is a real import, not one for the type checker only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from ninja import Field, Schema

from files import names
from files.models import Node

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
