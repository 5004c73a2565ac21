"""Keys and listings: an object key is ``<workspace slug>/<path>``, a folder's key ends in ``/``.

A listing is the keys a principal reaches, in S3's order (UTF-8 bytes, which is Python's string order), after a
start key, up to ``max-keys``. With the delimiter ``/`` only the level below the prefix's folder is read, its
folders rolled up as common prefixes; without one, files are listed from the whole tree below the prefix (a
folder shows up as the prefix of its files). The database orders and cuts the rows (by their bytes, from the
start key on), so a page costs about as many rows as it shows, however large the folder. Everything passes
through ``files.rights`` first: what a token does not reach is never listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Case, F, Q, TextField, Value, When
from django.db.models.functions import Collate, Concat, Substr

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


#: Rows read per query while a page fills (more when the principal's scopes hide many of them).
BATCH = 1000


def _binary(expression: Any) -> Collate:
    """``expression`` compared and ordered by its bytes, as S3 orders keys (not by the database's locale)."""
    return Collate(expression, "C" if connection.vendor == "postgresql" else "BINARY")


def _folder_entries(
    rights: Rights, folder: Node, workspace: Workspace, name_prefix: str, after: str, wanted: int
) -> list[Entry]:
    """Up to ``wanted`` children of ``folder`` whose names start with ``name_prefix``, after the local key
    ``after`` (the key without ``<slug>/``), in key order: a folder's key ends in ``/``."""
    local = Concat(
        Substr("path", 2),
        Case(When(type=Node.FOLDER, then=Value("/")), default=Value("")),
        output_field=TextField(),
    )
    children = rights.visible_children(folder).annotate(local_key=_binary(local)).order_by("local_key")
    if name_prefix:
        children = children.filter(name__startswith=name_prefix)  # may ignore case: checked again below
    entries: list[Entry] = []
    while len(entries) < wanted:
        batch = list(children.filter(local_key__gt=after)[:BATCH])
        for child in batch:
            after = child.local_key
            if child.name.startswith(name_prefix):
                child.workspace = workspace
                entries.append(Entry(key_of(workspace, child), None if child.is_folder else child))
        if len(batch) < BATCH:
            break
    return entries[:wanted]


def _tree_entries(rights: Rights, workspace: Workspace, path_prefix: str, after: str, wanted: int) -> list[Entry]:
    """Up to ``wanted`` files of a workspace that the principal may see, whose path starts with
    ``path_prefix``, after the local key ``after``, in key order."""
    files = (
        Node.objects.filter(workspace=workspace, type=Node.FILE)
        .annotate(ordered_path=_binary(F("path")))
        .order_by("ordered_path")
    )
    if path_prefix:
        files = files.filter(Q(path__startswith_exactly=path_prefix))
    entries: list[Entry] = []
    last = "/" + after
    while len(entries) < wanted:
        batch = list(files.filter(ordered_path__gt=last)[:BATCH])
        for node in batch:
            last = node.path
            # A file is never traverse-only: any access means it lies in what the principal reaches.
            if rights.access_at(workspace.uuid, node.path):
                node.workspace = workspace
                entries.append(Entry(key_of(workspace, node), node))
        if len(batch) < BATCH:
            break
    return entries[:wanted]


def _workspaces(rights: Rights) -> list[Workspace]:
    return sorted(rights.visible_workspaces(), key=lambda workspace: workspace.slug + "/")


def _local_after(after: str, workspace_prefix: str) -> str | None:
    """The part of the start key ``after`` that matters inside a workspace whose keys all start with
    ``workspace_prefix``: "" when every key there comes after it, None when none does."""
    if after.startswith(workspace_prefix):
        return after[len(workspace_prefix) :]
    return "" if after < workspace_prefix else None


def list_keys(rights: Rights, *, prefix: str, delimiter: str, after: str, max_keys: int) -> Page:
    """A page of the keys under ``prefix`` after the key ``after``, rolled up at ``delimiter`` (``/`` or none).
    Reads the workspaces in key order, each only as far as the page needs."""
    entries: list[Entry] = []
    slug, slash, rest = prefix.partition("/")
    for workspace in _workspaces(rights):
        wanted = max_keys + 1 - len(entries)
        if wanted <= 0:
            break
        if slash and workspace.slug != slug:
            continue
        if not slash and not workspace.slug.startswith(slug):
            continue
        if delimiter == "/" and not slash:
            entries.append(Entry(workspace.slug + "/", None))
            continue
        local_after = _local_after(after, workspace.slug + "/")
        if local_after is None:
            continue
        if delimiter == "/":
            folder_path, _, name_prefix = ("/" + rest).rpartition("/")
            folder = paths.resolve_path(f"/{workspace.slug}{folder_path}", rights=rights)
            if folder is None or not folder.is_folder or not rights.access(folder):
                continue
            entries.extend(_folder_entries(rights, folder, workspace, name_prefix, local_after, wanted))
        else:
            entries.extend(_tree_entries(rights, workspace, ("/" + rest) if slash else "", local_after, wanted))
    keys = [_rolled_up(entry, prefix, delimiter) for entry in entries if entry.key.startswith(prefix)]
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
