"""Copying a file, or a folder with everything below it, all or nothing (WebDAV's COPY).

A copy is the one tree operation that duplicates content, which takes time: :func:`copy` duplicates the blobs
first, outside any transaction (``files.blobs.duplicate``: an object store copies them itself), and then
writes the new nodes in one. It asks ``files.services`` for what the other operations share (``delete`` of what
it replaces). Like them it does not check rights: callers ask ``files.rights`` first.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.db import IntegrityError, transaction

from files import blobs, paths, services
from files.errors import ConcurrentChange, NameTaken, NodeError
from files.models import DeadProperty, Node
from files.names import validate_name


def copy(
    *,
    node: Node,
    parent: Node,
    name: str | None = None,
    members: bool = True,
    replacing: Node | None = None,
    guard: Callable[[], None] | None = None,
) -> Node:
    """Copy ``node`` under ``parent``: a file, or a folder with everything below it (without, when not
    ``members``). ``replacing`` is what the copy takes the place of (WebDAV's ``Overwrite: T``); ``guard`` is
    called in the transaction that writes the copy, before anything is written, and may raise to refuse it.

    All or nothing. The contents are duplicated into new blobs first, outside any transaction (copying bytes
    must not hold the database's write lock); then one transaction deletes ``replacing`` and inserts every new
    node and its dead properties. If anything fails, the tree is as it was and the new blobs are gone. A copy
    keeps modification times, content types and dead properties; a file keeps its entity tag (the same bytes).
    """
    name = validate_name(name if name is not None else node.name)
    if not parent.is_folder:
        raise NodeError("The destination must be a folder.")
    if node.is_folder and node.contains(parent):
        raise NodeError("A folder cannot be copied into itself.")
    if replacing is not None and replacing.contains(node):
        raise NodeError("A copy cannot replace a folder that holds what it copies.")
    whole = node.is_folder and members
    sources = sorted(paths.subtree(node) if whole else [node], key=lambda source: source.path.count("/"))
    top = paths.child_path(parent, name)
    copies: dict[uuid.UUID, Node] = {}
    new_blobs: list[str] = []
    try:
        for source in sources:  # parents before their children
            path = top + source.path[len(node.path) :]
            if len(path) > paths.MAX_PATH_LENGTH:
                raise NodeError(f"A path must be at most {paths.MAX_PATH_LENGTH} characters long.")
            blob = ""
            if source.blob:
                blob = _duplicate(source)
                new_blobs.append(blob)
            first = source.pk == node.pk
            copies[source.pk] = Node(
                workspace_id=parent.workspace_id,
                parent=parent if first else copies[source.parent_id],  # type: ignore[index]
                name=name if first else source.name,
                path=path,
                type=source.type,
                size=source.size,
                etag=services.new_etag() if source.is_folder else source.etag,
                md5=source.md5,
                mtime=source.mtime,
                blob=blob,
                content_type=source.content_type,
            )
        properties = DeadProperty.objects.filter(node__in=paths.subtree(node) if whole else [node])
        with transaction.atomic():
            if guard is not None:
                guard()
            if replacing is not None:
                services.delete(replacing)
            Node.objects.bulk_create(copies.values())
            DeadProperty.objects.bulk_create(
                DeadProperty(node=copies[prop.node_id], name=prop.name, value=prop.value)
                for prop in properties
                if prop.node_id in copies  # not a node added to the source since it was read
            )
    except BaseException as error:
        blobs.discard_all(new_blobs)
        if isinstance(error, IntegrityError):
            raise NameTaken(f"{name!r} already exists there.") from None
        raise
    return copies[node.pk]


def _duplicate(source: Node) -> str:
    """A new blob with ``source``'s content."""
    try:
        return blobs.duplicate(source.blob, source.size)
    except FileNotFoundError:  # replaced or deleted since it was read
        raise ConcurrentChange(f"{source.name!r} changed while it was being copied; try again.") from None
