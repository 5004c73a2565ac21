"""Operations on the node tree: workspaces, folders, file content, moves and deletes. They do not check rights:
callers ask ``files.rights`` first. What a name may be is in ``files.names``; where nodes are (a public path's
node, a new child's path, a subtree) in ``files.paths``; the copy of a file or folder in ``files.copies``.

Content lives in the default Django storage under a fresh name for every write (``blobs/ab/<uuid>``). A write
streams into a new blob (no node points at it yet) and only then points the node at it; the previous blob is
removed after the commit, and the new one if anything fails. A failed or oversized write therefore leaves the
previous content, no stray blob, and never a node without content.

The tree's exceptions (``files.errors``) and the blobs' ``CHUNK_SIZE`` and ``Readable`` are re-exported here:
the callers of these operations catch the one and hand over the other (``services.NameTaken``).
"""

from __future__ import annotations

import uuid
from typing import IO, TYPE_CHECKING, Protocol

from django.db import IntegrityError, transaction
from django.db.models import QuerySet, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone

from files import blobs, media_types, paths, raw_sql
from files.blobs import CHUNK_SIZE, Readable
from files.errors import ConcurrentChange, Locked, NameTaken, NodeError, PreconditionFailed, UploadTooLarge
from files.models import Node, Workspace
from files.names import validate_name

if TYPE_CHECKING:
    from datetime import datetime

_CHANGED = "{name!r} has changed (or appeared, or gone) since the version this write was made for."


class Precondition(Protocol):
    def allows(self, current: Node | None) -> bool:
        """Whether the write may go on over the file ``current`` as it is now (None: there is no such file)."""

    def new_file_condition(self) -> raw_sql.SqlCondition | None:
        """What ``allows(None)`` amounts to, as a condition the INSERT of a new file states itself: the file then
        goes in in one statement (in a transaction only where the condition needs one to be ordered against
        other writes: ``SqlCondition.ordered_by``). None: ``allows(None)`` is asked in the INSERT's
        transaction."""


def new_etag() -> str:
    """A folder's entity tag: a fresh one for every folder (a file's is its content's MD5, as S3's ETag)."""
    return uuid.uuid4().hex


def create_workspace(*, slug: str, label: str) -> Workspace:
    with transaction.atomic():
        workspace = Workspace.objects.create(slug=slug, label=label)
        Node.objects.create(
            workspace=workspace, parent=None, name="", path="", type=Node.FOLDER, mtime=timezone.now(), etag=new_etag()
        )
    return workspace


def children(parent: Node) -> QuerySet[Node]:
    return Node.objects.filter(parent=parent).select_related("workspace").order_by("name")


def create_folder(*, parent: Node, name: str) -> Node:
    if not parent.is_folder:
        raise NodeError("Folders can only be created inside a folder.")
    validate_name(name)
    try:
        with transaction.atomic():
            return Node.objects.create(
                workspace_id=parent.workspace_id,
                parent=parent,
                name=name,
                path=paths.child_path(parent, name),
                type=Node.FOLDER,
                mtime=timezone.now(),
                etag=new_etag(),
            )
    except IntegrityError:
        raise NameTaken(f"{name!r} already exists here.") from None


def write_file(
    *,
    parent: Node,
    name: str,
    stream: Readable,
    max_size: int | None = None,
    content_type: str = "",
    precondition: Precondition | None = None,
    mtime: datetime | None = None,
    found: bool = False,
) -> tuple[Node, bool]:
    """Create or replace the file ``name`` in ``parent`` with the bytes of ``stream``: (node, created). Its
    modification time is ``mtime`` (a client's own, as WebDAV's ``X-OC-Mtime`` gives it), else now. Its content
    type is ``content_type`` (a client's claim) or a guess from the name, never an active one
    (``files.media_types.stored_type``).

    A ``precondition`` is asked about the file as it is when the write takes place (under the row lock that
    the replacement holds), so no other write can slip in between; PreconditionFailed if it says no. ``found``:
    the caller saw a file of that name, so the write goes straight to the replacement rather than first trying
    a new file's INSERT (which would find the name taken); a file gone meanwhile is created there all the same.
    """
    if not parent.is_folder:
        raise NodeError("Files can only be written inside a folder.")
    validate_name(name)
    path = paths.child_path(parent, name)
    # Never a type a browser would run: the file is served from the console's origin (files.media_types).
    content_type = media_types.stored_type(content_type, name)
    with blobs.received(stream, max_size) as (blob, size, md5):
        try:
            node = Node(
                workspace_id=parent.workspace_id,
                parent=parent,
                name=name,
                path=path,
                type=Node.FILE,
                blob=blob,
                size=size,
                etag=md5,
                md5=md5,
                mtime=mtime or timezone.now(),
                content_type=content_type,
            )
            # A new name (the common case: uploads of new files) is one INSERT, which holds the database's
            # write lock for no longer than the statement; a taken one is replaced below, under a row lock.
            # A precondition the INSERT can state itself goes into that statement. Any other is asked once the
            # INSERT has taken the name, in the same transaction, so that what it read still holds when the
            # transaction commits (a refusal takes the INSERT back).
            if found:
                pass  # a replacement: the row-locked path below
            elif precondition is None:
                if raw_sql.insert_new_node(node):
                    return node, True
            elif (condition := precondition.new_file_condition()) is not None:
                if raw_sql.insert_new_node(node, only_if=condition):
                    return node, True
                # Taken, or the condition did not hold: the row-locked path below asks the precondition itself.
            else:
                with transaction.atomic():
                    if raw_sql.insert_new_node(node):
                        if not precondition.allows(None):
                            raise PreconditionFailed(_CHANGED.format(name=name))
                        return node, True
            with transaction.atomic():
                existing = Node.objects.select_for_update().filter(parent=parent, name=name).first()
                created = existing is None
                old_blob = ""
                if existing is not None and existing.is_folder:
                    raise NameTaken(f"{name!r} is a folder.")
                if precondition is not None and not precondition.allows(existing):
                    raise PreconditionFailed(_CHANGED.format(name=name))
                if existing is not None:  # None: removed since the INSERT; the new row goes in after all
                    old_blob = existing.blob
                    for field in ("blob", "size", "etag", "md5", "mtime", "content_type"):
                        setattr(existing, field, getattr(node, field))
                    node = existing
                node.save()
                transaction.on_commit(lambda: blobs.discard(old_blob))
        except IntegrityError:
            raise NameTaken(f"{name!r} already exists here.") from None  # the blob goes with the failure
    return node, created


def replace_content(
    *, node: Node, stream: Readable, max_size: int | None = None, precondition: Precondition | None = None
) -> Node:
    if node.is_folder or node.parent is None:
        raise NodeError("Only a file has content.")
    updated, _created = write_file(
        parent=node.parent,
        name=node.name,
        stream=stream,
        max_size=max_size,
        content_type=node.content_type,
        precondition=precondition,
        found=True,
    )
    return updated


def open_content(node: Node, offset: int = 0, *, deferred: bool = False) -> IO[bytes]:
    """The file's bytes from ``offset`` on (``files.blobs.open_blob``, which says what ``deferred`` defers)."""
    if node.is_folder:
        raise NodeError("A folder has no content.")
    return blobs.open_blob(node.blob, offset, deferred=deferred)


def move(*, node: Node, parent: Node, name: str | None = None) -> Node:
    """Rename and/or move ``node`` (and its subtree) under ``parent``."""
    name = validate_name(name if name is not None else node.name)
    if node.is_root:
        raise NodeError("A workspace root cannot be moved or renamed.")
    if not parent.is_folder:
        raise NodeError("The destination must be a folder.")
    if node.contains(parent):
        raise NodeError("A folder cannot be moved into itself.")
    old_path, new_path = node.path, paths.child_path(parent, name)
    try:
        with transaction.atomic():
            Node.objects.filter(workspace_id=node.workspace_id, path__startswith_exactly=old_path + "/").update(
                workspace_id=parent.workspace_id,
                path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
            )
            node.parent = parent
            node.workspace_id = parent.workspace_id
            node.name = name
            node.path = new_path
            node.mtime = timezone.now()
            node.save(update_fields=["parent", "workspace", "name", "path", "mtime"])
    except IntegrityError:
        raise NameTaken(f"{name!r} already exists there.") from None
    return node


def delete(node: Node) -> None:
    """Delete ``node`` and everything below it; blobs go once the transaction has committed."""
    if node.is_root:
        raise NodeError("A workspace root cannot be deleted.")
    with transaction.atomic():
        subtree = paths.subtree(node)
        names = list(subtree.exclude(blob="").values_list("blob", flat=True))
        node.delete()
        transaction.on_commit(lambda: blobs.discard_all(names))


__all__ = [
    "CHUNK_SIZE",
    "ConcurrentChange",
    "Locked",
    "NameTaken",
    "NodeError",
    "Precondition",
    "PreconditionFailed",
    "Readable",
    "UploadTooLarge",
]
