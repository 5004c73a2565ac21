"""WebDAV resources over the node tree: the workspace list at ``/dav/``, folders and files below it.

Reach is asked of the request's ``files.rights.Rights`` (loaded once per request by the provider) and never
decided here: a resource exists only if the rights give it some access; writes need ``WRITE``, removals
``can_remove``. Every refusal is raised *before* anything is touched, so WsgiDAV never gets to delete or
copy part of a tree it should not. Changes go through ``files.services``.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

from django.conf import settings
from django.db import transaction
from wsgidav import util
from wsgidav.dav_error import (
    HTTP_BAD_REQUEST,
    HTTP_CONFLICT,
    HTTP_FORBIDDEN,
    HTTP_LOCKED,
    HTTP_PRECONDITION_FAILED,
    HTTP_REQUEST_ENTITY_TOO_LARGE,
    DAVError,
    DAVErrorCondition,
    PRECONDITION_CODE_LockConflict,
)
from wsgidav.dav_provider import DAVCollection, DAVNonCollection

from files import conditions, services
from files.dav import lock_checks, locks
from files.dav.errors import Refusal, shielded
from files.dav.properties import DeadPropertiesMixin, copy_dead_properties
from files.models import Node
from files.rights import Access, Rights

#: Where a PUT's ``X-OC-Mtime`` waits for the upload (``files.dav.provider.client_mtime``).
CLIENT_MTIME = "cellsadmin.client_mtime"
#: Set by a COPY that created its destination: the answer is then 201, not WsgiDAV's 204.
COPIED_TO_NEW = "cellsadmin.copied_to_new"

if TYPE_CHECKING:
    from files.dav.provider import Provider

Environ = dict[str, Any]


def _forbidden(reason: str) -> DAVError:
    return Refusal(HTTP_FORBIDDEN, context_info=reason)


def _node_error(error: services.NodeError) -> DAVError:
    if isinstance(error, services.UploadTooLarge):
        return Refusal(HTTP_REQUEST_ENTITY_TOO_LARGE, context_info=str(error))
    if isinstance(error, services.NameTaken | services.ConcurrentChange):
        return Refusal(HTTP_CONFLICT, context_info=str(error))
    if isinstance(error, services.PreconditionFailed):
        return Refusal(HTTP_PRECONDITION_FAILED, context_info=str(error))
    return Refusal(HTTP_BAD_REQUEST, context_info=str(error))


def _member_url(folder: FolderResource, name: str) -> str:
    """The lock URL of ``name`` in ``folder``, whether or not it exists yet."""
    return folder.get_ref_url().rstrip("/") + "/" + quote(name)


class _ChunkStream:
    """The request body as WsgiDAV hands it over (an iterable of chunks), readable by ``files.services``.

    A read returns at most ``size`` bytes, and fewer when a chunk ends (as a raw stream does; only b"" means
    the end): chunks are handed on as they come, never copied into a growing buffer."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._pending = b""

    def read(self, size: int = -1, /) -> bytes:
        if size < 0:
            data, self._pending = self._pending + b"".join(self._chunks), b""
            return data
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            self._pending = chunk
        if len(self._pending) <= size:
            data, self._pending = self._pending, b""
        else:
            data, self._pending = self._pending[:size], self._pending[size:]
        return data


class _Upload:
    """What ``begin_write`` returns: WsgiDAV passes the whole body to ``writelines``, which streams it into
    ``files.services.write_file`` (atomic: a failed upload leaves the previous content, or no node)."""

    def __init__(self, resource: FileResource) -> None:
        self._resource = resource

    def writelines(self, chunks: Iterable[bytes]) -> None:
        self._resource.receive(_ChunkStream(chunks))

    def close(self) -> None:
        pass


class NodeResourceMixin(DeadPropertiesMixin):
    """What folders and files share. Set by ``__init__``: the node and what the principal may do with it."""

    path: str
    environ: Environ
    provider: Provider
    node: Node
    access: Access

    if TYPE_CHECKING:  # WsgiDAV's DAVResource methods, which every class using this mixin has

        def get_ref_url(self) -> str: ...

        def remove_all_locks(self, *, recursive: bool) -> None: ...

    def _setup(self, node: Node, access: Access) -> None:
        self.node = node
        self.access = access

    @property
    def rights(self) -> Rights:
        return self.provider.rights(self.environ)

    def get_creation_date(self) -> float:
        return self.node.created_at.timestamp()

    def get_last_modified(self) -> float:
        return self.node.mtime.timestamp()

    def get_display_name(self) -> str:
        return self.node.name or self.node.workspace.slug

    def prevent_locking(self) -> bool:
        # A refused LOCK is a 403, like any refused write.
        return Access.WRITE not in self.access

    def _require_removable(self) -> None:
        if not self.rights.can_remove(self.node):
            raise _forbidden("This cannot be deleted, moved or replaced with this token or account.")

    def _writable_folder(self, path: str) -> FolderResource:
        folder = self.provider.get_resource_inst(path, self.environ)
        if not isinstance(folder, FolderResource) or Access.WRITE not in folder.access:
            raise _forbidden("The destination folder cannot be written.")
        return folder

    def _existing(self, path: str) -> NodeResourceMixin | None:
        existing = self.provider.get_resource_inst(path, self.environ)
        if existing is not None and not isinstance(existing, NodeResourceMixin):
            raise _forbidden("The workspace list cannot be replaced.")
        return existing

    # --- DELETE / MOVE / COPY: every check first, before WsgiDAV touches anything ---------------------------

    @shielded
    def handle_delete(self) -> bool:
        self._require_removable()
        # The locks are read in the transaction that deletes: none granted elsewhere can slip in between.
        with transaction.atomic():
            locks.hold_off_lock_requests()
            self._check_locks_in_subtree()
            self.delete()
        return True

    def _locks_again(self, url: str, *, new_in: str | None, depth: str = "0") -> None:
        """WsgiDAV's check of this request's locks before it writes, made again in the transaction that writes
        (``files.dav.locks.check_still_writable``)."""
        locks.check_still_writable(
            self.provider.lock_manager,
            url=url,
            new_in=new_in,
            token_list=self.environ.get("wsgidav.ifLockTokenList", []),
            principal=self.environ["wsgidav.user_name"],
            depth=depth,
        )

    def _check_locks_in_subtree(self) -> None:
        """423 unless every lock on this resource, its ancestors and its descendants is the requester's and was
        submitted. WsgiDAV checks descendants only when it deletes child by child; we delete in one go."""
        lock_manager = self.provider.lock_manager
        url = self.get_ref_url()
        tokens = self.environ["wsgidav.ifLockTokenList"]
        principal = self.environ["wsgidav.user_name"]
        lock_manager.check_write_permission(url=url, depth="0", token_list=tokens, principal=principal)
        conflicts = DAVErrorCondition(PRECONDITION_CODE_LockConflict)
        for lock in lock_manager.storage.get_lock_list(
            url, include_root=False, include_children=True, token_only=False
        ):
            if lock["principal"] != principal or lock["token"] not in tokens:
                conflicts.add_href(lock["root"])
        if conflicts.hrefs:
            raise DAVError(HTTP_LOCKED, err_condition=conflicts)

    @shielded
    def delete(self) -> list[Any]:
        self._require_removable()
        services.delete(self.node)
        self.remove_all_locks(recursive=True)
        self.provider.forget(self.environ)
        return []

    @shielded
    def handle_move(self, dest_path: str) -> bool:
        self._require_removable()
        folder = self._writable_folder(util.get_uri_parent(dest_path))
        existing = self._existing(dest_path)
        if existing is None:
            return False  # WsgiDAV goes on to move_recursive.
        existing._require_removable()
        if existing.node.contains(self.node):
            raise _forbidden("A resource cannot be moved onto a folder that holds it.")
        # Over an existing destination WsgiDAV would delete it first and then move, so a move that failed would
        # have lost the destination. Both go in one transaction here: the destination is replaced or kept.
        with transaction.atomic():
            source = self.get_ref_url()
            self._locks_again(source, new_in=util.get_uri_parent(source), depth="infinity")
            self._locks_again(existing.get_ref_url(), new_in=None, depth="infinity")
            services.delete(existing.node)
            try:
                services.move(node=self.node, parent=folder.node, name=util.get_uri_name(dest_path))
            except services.NodeError as error:
                raise _node_error(error) from None
        # Locks belong to URLs (RFC 4918 §7.7): the destination's went with it, the source's stay behind.
        existing.remove_all_locks(recursive=True)
        self.remove_all_locks(recursive=True)
        self.provider.forget(self.environ)
        return True  # WsgiDAV answers 204 No Content: the destination existed.

    @shielded
    def handle_copy(self, dest_path: str, *, depth_infinity: bool) -> bool:
        """Every COPY, in one go: the copy of a whole folder lands complete or not at all, rather than member by
        member as WsgiDAV would (a failure halfway left half a tree and a 207)."""
        if Access.READ not in self.access:
            raise _forbidden("This cannot be read with this token.")
        folder = self._writable_folder(util.get_uri_parent(dest_path))
        existing = self._existing(dest_path)
        if isinstance(self, FileResource) and isinstance(existing, FileResource) and Access.WRITE in existing.access:
            # File over file: replace the content in place (atomic), rather than WsgiDAV's delete + create.
            existing.replace_with(self.node)
            return True
        if existing is not None:
            existing._require_removable()
            if existing.node.contains(self.node):
                raise _forbidden("A resource cannot be copied onto a folder that holds it.")
        name = util.get_uri_name(dest_path)

        def guard() -> None:
            # The destination's locks, again where the copy is written (duplicating the contents takes time).
            if existing is None:
                self._locks_again(_member_url(folder, name), new_in=folder.get_ref_url())
            else:
                depth = "infinity" if isinstance(existing, FolderResource) else "0"
                self._locks_again(existing.get_ref_url(), new_in=None, depth=depth)

        try:
            services.copy(
                node=self.node,
                parent=folder.node,
                name=name,
                members=depth_infinity,
                replacing=existing.node if existing is not None else None,
                guard=guard,
            )
        except services.NodeError as error:
            raise _node_error(error) from None
        if existing is None:
            self.environ[COPIED_TO_NEW] = True
        self.provider.forget(self.environ)
        return True  # WsgiDAV answers 204; the provider makes it 201 when there was no destination.

    def support_recursive_move(self, dest_path: str) -> bool:
        # Files too: WsgiDAV's default asserts a collection and would answer every file MOVE with 500.
        return True

    @shielded
    def move_recursive(self, dest_path: str) -> list[Any]:
        folder = self._writable_folder(util.get_uri_parent(dest_path))
        name = util.get_uri_name(dest_path)
        try:
            with transaction.atomic():
                source = self.get_ref_url()
                self._locks_again(source, new_in=util.get_uri_parent(source), depth="infinity")
                self._locks_again(_member_url(folder, name), new_in=folder.get_ref_url())
                services.move(node=self.node, parent=folder.node, name=name)
        except services.NodeError as error:
            raise _node_error(error) from None
        # Locks belong to URLs; they do not travel with the node (RFC 4918 §7.7).
        self.remove_all_locks(recursive=True)
        self.provider.forget(self.environ)
        return []


class FolderResource(NodeResourceMixin, DAVCollection):  # type: ignore[misc]
    def __init__(self, path: str, environ: Environ, node: Node, access: Access) -> None:
        super().__init__(path, environ)
        self._setup(node, access)
        self._members: dict[str, NodeResourceMixin] | None = None

    def _children(self) -> dict[str, NodeResourceMixin]:
        if self._members is None:
            queryset = services.children(self.node).prefetch_related("dead_properties")
            self._members = {
                child.name: self.provider.resource_for(util.join_uri(self.path, child.name), self.environ, child)
                for child in self.rights.visible_children(self.node, queryset)
            }
        return self._members

    def get_member_names(self) -> list[str]:
        return list(self._children())

    def get_member_list(self) -> list[NodeResourceMixin]:
        return list(self._children().values())

    def get_member(self, name: str) -> NodeResourceMixin | None:
        return self._children().get(name)

    def _require_writable(self) -> None:
        if Access.WRITE not in self.access:
            raise _forbidden("This folder cannot be written with this token or account.")

    def create_empty_resource(self, name: str) -> FileResource:
        self._require_writable()
        try:
            services.validate_name(name)
        except services.NodeError as error:
            raise _node_error(error) from None
        path = util.join_uri(self.path, name)
        if self.environ["REQUEST_METHOD"] == "PUT":
            # WsgiDAV asks for the empty file before it reads the body; the node is created by the upload
            # itself, so a failed upload leaves nothing behind.
            return FileResource(path, self.environ, None, Access.NONE, parent=self)
        # LOCK on an unmapped URL: RFC 4918 §9.10.4 wants an empty file.
        try:
            node, _created = services.write_file(parent=self.node, name=name, stream=io.BytesIO())
        except services.NodeError as error:
            raise _node_error(error) from None
        self.provider.forget(self.environ)
        return cast("FileResource", self.provider.resource_for(path, self.environ, node))

    def create_collection(self, name: str) -> None:
        self._require_writable()
        try:
            services.create_folder(parent=self.node, name=name)
        except services.NodeError as error:
            raise _node_error(error) from None
        self.provider.forget(self.environ)


class FileResource(NodeResourceMixin, DAVNonCollection):  # type: ignore[misc]
    """A file; ``node`` is None for the target of a PUT that has not arrived yet (see ``create_empty_resource``)."""

    def __init__(
        self, path: str, environ: Environ, node: Node | None, access: Access, parent: FolderResource | None = None
    ) -> None:
        super().__init__(path, environ)
        self._parent = parent
        if node is not None:
            self._setup(node, access)

    def get_content_length(self) -> int:
        return self.node.size

    def get_content_type(self) -> str:
        return self.node.content_type or "application/octet-stream"

    def get_etag(self) -> str:
        return self.node.etag

    def support_etag(self) -> bool:
        return True

    def support_ranges(self) -> bool:
        return True

    def get_content(self) -> Any:
        if Access.READ not in self.access:
            raise _forbidden("This file cannot be read with this token.")
        return services.open_content(self.node)

    def begin_write(self, *, content_type: str | None = None) -> _Upload:
        if self._parent is None and Access.WRITE not in self.access:
            raise _forbidden("This file cannot be written with this token or account.")
        return _Upload(self)

    def end_write(self, *, with_errors: bool) -> None:
        pass

    def receive(self, stream: services.Readable) -> None:
        """Store the uploaded bytes as this file's content (creating the node for a new file)."""
        if self._parent is not None:
            parent, name, content_type = self._parent.node, util.get_uri_name(self.path), ""
        else:
            assert self.node.parent is not None
            parent, name, content_type = self.node.parent, self.node.name, self.node.content_type
        try:
            node, _created = services.write_file(
                parent=parent,
                name=name,
                stream=stream,
                max_size=settings.MAX_UPLOAD_SIZE,
                content_type=content_type,
                precondition=self._write_guard(),
                mtime=self.environ.get(CLIENT_MTIME),
            )
        except services.NodeError as error:
            raise _node_error(error) from None
        self._setup(node, self.rights.access(node))
        self._parent = None
        self.provider.forget(self.environ)

    def _write_guard(self) -> lock_checks.WriteGuard:
        """The locks (and a PUT's If-Match / If-None-Match), asked again where the upload is written: another
        process may have granted a lock while the body arrived, another client replaced the version. WsgiDAV
        has asked them before the body (the locks only for a large body or one sent with lock tokens, see
        ``files.dav.provider``)."""
        environ = self.environ
        url = self.get_ref_url()
        put = environ["REQUEST_METHOD"] == "PUT"
        return lock_checks.WriteGuard(
            lambda url, new_in: self._locks_again(url, new_in=new_in),
            url=url,
            folder_url=util.get_uri_parent(url),
            conditions=conditions.from_headers(environ.get("HTTP_IF_MATCH"), environ.get("HTTP_IF_NONE_MATCH"))
            if put
            else None,
        )

    def replace_with(self, source: Node) -> None:
        with services.open_content(source) as handle:
            self.receive(handle)
        copy_dead_properties(source, self.node)


class WorkspaceList(DAVCollection):  # type: ignore[misc]
    """``/dav/``: one collection per workspace the principal reaches, named by its slug. Nothing is written
    here: workspaces are made by administrators."""

    provider: Provider

    def __init__(self, environ: Environ) -> None:
        super().__init__("/", environ)
        self._members: dict[str, FolderResource] | None = None

    def _children(self) -> dict[str, FolderResource]:
        if self._members is None:
            rights = self.provider.rights(self.environ)
            roots = (
                Node.objects.filter(parent__isnull=True, workspace__in=rights.visible_workspaces())
                .select_related("workspace")
                .prefetch_related("dead_properties")
                .order_by("workspace__slug")
            )
            self._members = {
                root.workspace.slug: cast(
                    "FolderResource", self.provider.resource_for(f"/{root.workspace.slug}", self.environ, root)
                )
                for root in roots
            }
        return self._members

    def get_member_names(self) -> list[str]:
        return list(self._children())

    def get_member_list(self) -> list[FolderResource]:
        return list(self._children().values())

    def get_member(self, name: str) -> FolderResource | None:
        return self._children().get(name)

    def get_display_name(self) -> str:
        return "dav"

    def prevent_locking(self) -> bool:
        return True

    def handle_delete(self) -> bool:
        raise _forbidden("Workspaces cannot be deleted over WebDAV.")

    def handle_move(self, dest_path: str) -> bool:
        raise _forbidden("Workspaces cannot be moved over WebDAV.")

    def handle_copy(self, dest_path: str, *, depth_infinity: bool) -> bool:
        raise _forbidden("Workspaces cannot be copied over WebDAV.")

    def create_empty_resource(self, name: str) -> None:
        raise _forbidden("Only workspaces live at the top level.")

    def create_collection(self, name: str) -> None:
        raise _forbidden("Workspaces are created by administrators.")
