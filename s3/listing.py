"""Keys and listings: an object key is ``<workspace slug>/<path>``, a folder's key ends in ``/``.

A listing is the keys a principal reaches, in S3's order (UTF-8 bytes, which is Python's string order), after a
start key, up to ``max-keys``. With the delimiter ``/`` only the level below the prefix's folder is read, its
folders rolled up as common prefixes; without one, files are listed from the whole tree below the prefix (a
folder shows up as the prefix of its files). Everything passes through ``files.rights`` first: what a token
does not reach is never listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q

from files import paths
from files.models import Node, Workspace

if TYPE_CHECKING:
    from files.rights import Rights


@dataclass(frozen=True)
class Entry:
    """A key in a listing: an object (``node``, a file) or a common prefix (``node`` None)."""

    key: str
    node: Node | None


@dataclass(frozen=True)
class Page:
    entries: list[Entry]
    truncated: bool


def key_of(workspace: Workspace, node: Node) -> str:
    return workspace.slug + node.path + ("/" if node.is_folder else "")


def public_path(key: str) -> str | None:
    """The public path (``/<slug>/<names…>``) of an object key, or None for a key no node can have (an empty
    segment, ``.`` or ``..``); a trailing ``/`` (a folder key) is dropped."""
    parts = key.removesuffix("/").split("/")
    if not parts or any(part in {"", ".", ".."} for part in parts) or "\x00" in key:
        return None
    return "/" + "/".join(parts)


def _folder_entries(rights: Rights, folder: Node, workspace: Workspace, name_prefix: str) -> list[Entry]:
    entries = []
    for child in rights.visible_children(folder):
        if not child.name.startswith(name_prefix):
            continue
        child.workspace = workspace
        key = key_of(workspace, child)
        entries.append(Entry(key, None if child.is_folder else child))
    return entries


def _tree_entries(rights: Rights, workspace: Workspace, path_prefix: str) -> list[Entry]:
    """The files of a workspace whose path starts with ``path_prefix`` that the principal may see."""
    files = Node.objects.filter(workspace=workspace, type=Node.FILE)
    if path_prefix:
        files = files.filter(Q(path__startswith_exactly=path_prefix))
    entries = []
    for node in files:
        # A file is never traverse-only: any access means it lies in what the principal reaches.
        if rights.access_at(workspace.uuid, node.path):
            node.workspace = workspace
            entries.append(Entry(key_of(workspace, node), node))
    return entries


def _workspaces(rights: Rights) -> list[Workspace]:
    return sorted(rights.visible_workspaces(), key=lambda workspace: workspace.slug + "/")


def list_keys(rights: Rights, *, prefix: str, delimiter: str, after: str, max_keys: int) -> Page:
    """A page of the keys under ``prefix`` after the key ``after``, rolled up at ``delimiter`` (``/`` or none)."""
    entries: list[Entry] = []
    slug, slash, rest = prefix.partition("/")
    for workspace in _workspaces(rights):
        if slash and workspace.slug != slug:
            continue
        if not slash and not workspace.slug.startswith(slug):
            continue
        if delimiter == "/" and not slash:
            entries.append(Entry(workspace.slug + "/", None))
            continue
        if delimiter == "/":
            folder_path, _, name_prefix = ("/" + rest).rpartition("/")
            folder = paths.resolve_path(f"/{workspace.slug}{folder_path}", rights=rights)
            if folder is None or not folder.is_folder or not rights.access(folder):
                continue
            entries.extend(_folder_entries(rights, folder, workspace, name_prefix))
        else:
            entries.extend(_tree_entries(rights, workspace, ("/" + rest) if slash else ""))
    keys = sorted(
        (_rolled_up(entry, prefix, delimiter) for entry in entries if entry.key.startswith(prefix)),
        key=lambda entry: entry.key,
    )
    unique = list({entry.key: entry for entry in keys if entry.key > after}.values())
    return Page(entries=unique[:max_keys], truncated=len(unique) > max_keys)


def _rolled_up(entry: Entry, prefix: str, delimiter: str) -> Entry:
    """A key with the delimiter after the prefix becomes the common prefix up to it."""
    if not delimiter:
        return entry
    cut = entry.key.find(delimiter, len(prefix))
    if cut < 0 or (cut == len(entry.key) - 1 and entry.node is None):
        return entry
    return Entry(entry.key[: cut + 1], None)
