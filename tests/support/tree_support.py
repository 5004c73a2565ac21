"""Builders and snapshots for tests that compare a whole file tree before and after an operation."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

from django.core.files.storage import default_storage

from files import paths, services
from files.models import Node


@dataclass(frozen=True)
class Seen:
    """What an operation could change about a node."""

    path: str
    parent: object
    type: str
    etag: str
    content: bytes | None


def build(root: Node, relative_paths: list[str], *, numbered: bool = False) -> list[str]:
    """Folders at ``relative_paths`` (``a/b``, below ``root``), each holding a file ``f`` whose content names
    it, so that a wrong move or delete shows in the content as well as in the paths; ``numbered``: ``f1``,
    ``f2``… instead, so that no two folders hold the same names. Returns the files' relative paths."""
    files = []
    for number, relative in enumerate(sorted(set(relative_paths), key=lambda path: path.count("/")), start=1):
        parent = root
        for name in relative.split("/"):
            found = paths.resolve_path(f"{parent.public_path}/{name}")
            parent = found if found is not None else services.create_folder(parent=parent, name=name)
        name = f"f{number}" if numbered else "f"
        services.write_file(parent=parent, name=name, stream=io.BytesIO(relative.encode()))
        files.append(f"{relative}/{name}")
    return files


def snapshot(workspace_id: uuid.UUID) -> dict[object, Seen]:
    """Every node of a workspace by its uuid, with the content of every file as the storage has it now (None
    when its blob is gone)."""
    seen: dict[object, Seen] = {}
    for node in Node.objects.filter(workspace_id=workspace_id):
        content = None
        if node.blob and default_storage.exists(node.blob):
            with default_storage.open(node.blob, "rb") as handle:
                content = handle.read()
        seen[node.pk] = Seen(node.path, node.parent_id, node.type, node.etag, content if node.blob else b"")
    return seen


def within(path: str, ancestor: str) -> bool:
    """Exactly: the same path, or below it (no case folding, no normalisation)."""
    return path == ancestor or path.startswith(ancestor + "/")


#: The demo folder that scoped tokens are narrowed to.
ALPHA = "/common/projects/alpha"


def outside_alpha() -> set[tuple[str, str, str]]:
    """Everything outside ``ALPHA`` (the scope), as it is now: what a token scoped to it must never change."""
    return {
        (node.workspace.slug, node.path, node.etag)
        for node in Node.objects.select_related("workspace")
        if not (
            node.workspace.slug == "common"
            and (node.path == "/projects/alpha" or node.path.startswith("/projects/alpha/"))
        )
    }
