"""Operations on the node tree. They do not check rights: callers ask ``files.rights`` first.

Content lives in the default Django storage under a fresh name for every write (``blobs/ab/<uuid>``). A write
streams into a new blob (no node points at it yet) and only then points the node at it; the previous blob is
removed after the commit, and the new one if anything fails. A failed or oversized write therefore leaves the
previous content, no stray blob, and never a node without content.
"""

from __future__ import annotations

import mimetypes
import uuid
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Protocol

from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone

from files import blobs, statements
from files.blobs import CHUNK_SIZE, Readable
from files.errors import ConcurrentChange, Locked, NameTaken, NodeError, PreconditionFailed, UploadTooLarge
from files.models import DeadProperty, Node, Workspace

if TYPE_CHECKING:
    from datetime import datetime

    from files.rights import Rights

MAX_PATH_LENGTH = 2048
_CHANGED = "{name!r} has changed (or appeared, or gone) since the version this write was made for."


class Precondition(Protocol):
    def allows(self, etag: str | None) -> bool:
        """Whether the write may go on over the file with this ``etag`` (None: there is no such file)."""

    def new_file_condition(self) -> statements.SqlCondition | None:
        """What ``allows(None)`` amounts to, as a condition the INSERT of a new file states itself: the file then
        goes in in one statement, with no transaction around it. None: ``allows(None)`` is asked in the INSERT's
        transaction."""


# validate_name()'s rules as one regular expression, for the API schemas (their clients see the rules up front).
# No look-arounds, so that Python, ECMAScript (JSON Schema) and pydantic's Rust engine all read it the same:
# a name of one or two characters that is not "." or "..", or a longer one; never slashes or control
# characters, never white space at either end. Length is checked separately (1 to 255).
# White space is spelled out as what str.strip() removes (beyond the control characters, excluded anyway): each
# engine's \s differs (ECMAScript's leaves out U+0085 and takes U+FEFF, for one).
_SPACES = " \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_NAME_CHAR = r"[^/\\\x00-\x1f\x7f]"
_NAME_EDGE = r"[^/\\\x00-\x1f\x7f" + _SPACES + "]"
_NAME_EDGE_NOT_DOT = r"[^/\\\x00-\x1f\x7f" + _SPACES + ".]"
_NAME_FORMS = (
    _NAME_EDGE_NOT_DOT,
    _NAME_EDGE_NOT_DOT + _NAME_EDGE,
    r"\." + _NAME_EDGE_NOT_DOT,
    _NAME_EDGE + _NAME_CHAR + "+" + _NAME_EDGE,
)
NAME_PATTERN = "^(?:" + "|".join(_NAME_FORMS) + ")$"
NAME_MAX_LENGTH = 255


def validate_name(name: str) -> str:
    if not name or name in {".", ".."}:
        raise NodeError("A name must not be empty, '.' or '..'.")
    if len(name) > NAME_MAX_LENGTH:
        raise NodeError("A name must be at most 255 characters long.")
    if "/" in name or "\\" in name or any(ord(char) < 32 or ord(char) == 127 for char in name):
        raise NodeError("A name must not contain slashes or control characters.")
    if name != name.strip():
        raise NodeError("A name must not start or end with white space.")
    if not name.isprintable() and any(0xD800 <= ord(char) <= 0xDFFF for char in name):
        # A lone surrogate (JSON allows "\ud800") cannot be stored as UTF-8 by any database.
        raise NodeError("A name must be valid Unicode text.")
    return name


def _child_path(parent: Node, name: str) -> str:
    path = f"{parent.path}/{name}"
    if len(path) > MAX_PATH_LENGTH:
        raise NodeError(f"A path must be at most {MAX_PATH_LENGTH} characters long.")
    return path


def _new_etag() -> str:
    return uuid.uuid4().hex


def create_workspace(*, slug: str, label: str) -> Workspace:
    with transaction.atomic():
        workspace = Workspace.objects.create(slug=slug, label=label)
        Node.objects.create(
            workspace=workspace, parent=None, name="", path="", type=Node.FOLDER, mtime=timezone.now(), etag=_new_etag()
        )
    return workspace


def resolve_path(public_path: str, *, rights: Rights | None = None) -> Node | None:
    """The node at ``/<workspace slug>/<names…>``, or None (one query)."""
    found = resolve_paths([public_path], rights=rights)
    return found[0]


def resolve_paths(public_paths: list[str], *, rights: Rights | None = None) -> list[Node | None]:
    """The nodes at ``public_paths`` (``/<slug>/…``), one query per workspace; None where there is none.

    With ``rights`` whose owner's grants are still unread, the same query brings the grant on the workspace
    along (``Rights.note_grant``): a request that stays in one workspace reads no grant on its own.

    Written out rather than built by the ORM (``files.statements``): every API and WebDAV request resolves a
    path or two, and building this join through the ORM costs several times what the database takes to answer.
    """
    wanted: list[tuple[str, str] | None] = []
    for public_path in public_paths:
        parts = [part for part in public_path.split("/") if part]
        # No name holds a NUL (validate_name), and PostgreSQL text cannot even be compared with one.
        if not parts or "\x00" in public_path:
            wanted.append(None)
        else:
            wanted.append((parts[0], "".join(f"/{part}" for part in parts[1:])))
    slugs = {item[0] for item in wanted if item is not None}
    if len(slugs) > 1:
        return [node for public_path in public_paths for node in resolve_paths([public_path], rights=rights)]
    if not slugs:
        return [None] * len(public_paths)
    paths = sorted({item[1] for item in wanted if item is not None})
    grantee = rights.grantee if rights is not None else None
    found, grant = statements.nodes_at(slugs.pop(), paths, grantee=grantee)
    if rights is not None and grant is not None:
        rights.note_grant(grant.workspace_id, read=grant.read, write=grant.write)
    return [found.get(item[1]) if item is not None else None for item in wanted]


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
                path=_child_path(parent, name),
                type=Node.FOLDER,
                mtime=timezone.now(),
                etag=_new_etag(),
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
) -> tuple[Node, bool]:
    """Create or replace the file ``name`` in ``parent`` with the bytes of ``stream``: (node, created). Its
    modification time is ``mtime`` (a client's own, as WebDAV's ``X-OC-Mtime`` gives it), else now.

    A ``precondition`` is asked about the file as it is when the write takes place (under the row lock that
    the replacement holds), so no other write can slip in between; PreconditionFailed if it says no.
    """
    if not parent.is_folder:
        raise NodeError("Files can only be written inside a folder.")
    validate_name(name)
    path = _child_path(parent, name)
    content_type = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    with blobs.received(stream, max_size) as (blob, size, sha256):
        try:
            node = Node(
                workspace_id=parent.workspace_id,
                parent=parent,
                name=name,
                path=path,
                type=Node.FILE,
                blob=blob,
                size=size,
                etag=sha256[:40],
                mtime=mtime or timezone.now(),
                content_type=content_type,
            )
            # A new name (the common case: uploads of new files) is one INSERT, which holds the database's
            # write lock for no longer than the statement; a taken one is replaced below, under a row lock.
            # A precondition the INSERT can state itself goes into that statement. Any other is asked once the
            # INSERT has taken the name, in the same transaction, so that what it read still holds when the
            # transaction commits (a refusal takes the INSERT back).
            if precondition is None:
                if statements.insert_new_node(node):
                    return node, True
            elif (condition := precondition.new_file_condition()) is not None:
                if statements.insert_new_node(node, only_if=condition):
                    return node, True
                # Taken, or the condition did not hold: the row-locked path below asks the precondition itself.
            else:
                with transaction.atomic():
                    if statements.insert_new_node(node):
                        if not precondition.allows(None):
                            raise PreconditionFailed(_CHANGED.format(name=name))
                        return node, True
            with transaction.atomic():
                existing = Node.objects.select_for_update().filter(parent=parent, name=name).first()
                created = existing is None
                old_blob = ""
                if existing is not None and existing.is_folder:
                    raise NameTaken(f"{name!r} is a folder.")
                if precondition is not None and not precondition.allows(existing.etag if existing else None):
                    raise PreconditionFailed(_CHANGED.format(name=name))
                if existing is not None:  # None: removed since the INSERT; the new row goes in after all
                    old_blob = existing.blob
                    for field in ("blob", "size", "etag", "mtime", "content_type"):
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
    )
    return updated


def open_content(node: Node) -> IO[bytes]:
    if node.is_folder:
        raise NodeError("A folder has no content.")
    return default_storage.open(node.blob, "rb")


def _subtree(node: Node) -> QuerySet[Node]:
    return Node.objects.filter(workspace_id=node.workspace_id).filter(
        Q(pk=node.pk) | Q(path__startswith=node.path + "/")
    )


def move(*, node: Node, parent: Node, name: str | None = None) -> Node:
    """Rename and/or move ``node`` (and its subtree) under ``parent``."""
    name = validate_name(name if name is not None else node.name)
    if node.is_root:
        raise NodeError("A workspace root cannot be moved or renamed.")
    if not parent.is_folder:
        raise NodeError("The destination must be a folder.")
    if node.contains(parent):
        raise NodeError("A folder cannot be moved into itself.")
    old_path, new_path = node.path, _child_path(parent, name)
    try:
        with transaction.atomic():
            Node.objects.filter(workspace_id=node.workspace_id, path__startswith=old_path + "/").update(
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
        subtree = _subtree(node)
        names = list(subtree.exclude(blob="").values_list("blob", flat=True))
        node.delete()
        transaction.on_commit(lambda: blobs.discard_all(names))


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
    sources = sorted(_subtree(node) if whole else [node], key=lambda source: source.path.count("/"))
    top = _child_path(parent, name)
    copies: dict[uuid.UUID, Node] = {}
    new_blobs: list[str] = []
    try:
        for source in sources:  # parents before their children
            path = top + source.path[len(node.path) :]
            if len(path) > MAX_PATH_LENGTH:
                raise NodeError(f"A path must be at most {MAX_PATH_LENGTH} characters long.")
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
                etag=_new_etag() if source.is_folder else source.etag,
                mtime=source.mtime,
                blob=blob,
                content_type=source.content_type,
            )
        properties = DeadProperty.objects.filter(node__in=_subtree(node) if whole else [node])
        with transaction.atomic():
            if guard is not None:
                guard()
            if replacing is not None:
                delete(replacing)
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
        handle = open_content(source)
    except FileNotFoundError:  # replaced or deleted since it was read
        raise ConcurrentChange(f"{source.name!r} changed while it was being copied; try again.") from None
    with handle:
        return blobs.store(handle, source.size)[0]


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
